#pragma once
// The gradient-check suite: one case per differentiable op and configuration. The same
// cases drive the tests (CPU finite differences, CUDA/CPU parity, GPU determinism) and
// `pmsdsen gradcheck`.
#include <functional>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "core/rng.h"

namespace pmsdsen::autograd {

struct GradCase {
  std::string op;      // an op of the table (autograd/op_table.def), or kComposedCase
  std::string config;  // "dilation=2 x[2,5,13,10]"
  // CPU float64 inputs; those to be checked have requires_grad set.
  std::function<std::vector<Tensor>(Generator&)> make_inputs;
  TensorFunction fn;
  GradCheckOptions options;  // tolerances for the float64 CPU check
  // Tolerances when the analytic side runs in float32 on CUDA.
  double cuda_atol = 2e-4;
  double cuda_rtol = 2e-3;
};

// Every case, in the order of the op table (composed cases last).
const std::vector<GradCase>& gradcheck_suite();

// Runs one case: analytic gradient on `device` (float64 on the CPU, float32 on CUDA)
// against float64 central differences on the CPU.
GradCheckReport run_grad_case(const GradCase& c, Device device, uint64_t seed = 2024);

// Case lists, one per op family (autograd/gradcheck_cases_<family>.cpp).
void add_basic_grad_cases(std::vector<GradCase>& cases);
void add_conv_grad_cases(std::vector<GradCase>& cases);
void add_norm_grad_cases(std::vector<GradCase>& cases);
void add_activation_grad_cases(std::vector<GradCase>& cases);
void add_pool_grad_cases(std::vector<GradCase>& cases);
void add_resize_grad_cases(std::vector<GradCase>& cases);
void add_loss_grad_cases(std::vector<GradCase>& cases);

// The op of cases that check a graph of several ops rather than one.
inline constexpr const char* kComposedCase = "composed";

// Helpers for writing cases.
Tensor random_input(Generator& gen, const Shape& shape, bool requires_grad = true,
                    double lo = -1.0, double hi = 1.0);

}  // namespace pmsdsen::autograd
