#pragma once
// Finite-difference gradient checking, after Caffe's GradientChecker: the analytic
// gradient of L = sum(f(inputs) * r), with r a fixed random tensor, is compared with
// central differences (L(x + eps) - L(x - eps)) / 2 eps for every element of every
// input that requires grad.
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pmsdsen::autograd {

using TensorFunction = std::function<Tensor(const std::vector<Tensor>&)>;

struct GradCheckOptions {
  double eps = 1e-6;    // finite-difference step (float64 inputs)
  double atol = 1e-7;   // element passes when |analytic - numeric| <= atol + rtol * |numeric|
  double rtol = 1e-5;
  uint64_t seed = 1234;  // for the projection r
  // Where the analytic gradient is computed: by default on the inputs as given
  // (float64 on the CPU). Set to CUDA/float32 to check the GPU backward against CPU
  // float64 finite differences.
  Device analytic_device = Device::cpu();
  DType analytic_dtype = DType::F64;
};

struct GradCheckReport {
  double max_abs_error = 0.0;
  double max_rel_error = 0.0;  // |a - n| / max(|n|, atol)
  int64_t checked = 0;         // elements compared
  int64_t failed = 0;
  std::string worst;           // where the largest violation was, for the message
  bool passed() const { return failed == 0 && checked > 0; }
};

// Inputs are CPU float64 tensors; those with requires_grad() are checked (the others
// are held fixed). `f` must be deterministic: it is evaluated 2 * elements + 1 times.
GradCheckReport gradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs,
                          const GradCheckOptions& options = {});

}  // namespace pmsdsen::autograd
