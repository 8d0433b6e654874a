#pragma once
// Runs one KernelBench: builds its rotating input sets, checks that our kernel writes
// every output, times it, then builds, checks and times the cuDNN baseline where there
// is one. A failure (ours throws, cuDNN refuses) ends up in the record, not as an
// exception, so one bad kernel does not stop the others.
#include <cstdint>

#include <nlohmann/json.hpp>

#include "bench/device_info.h"
#include "bench/kernel_registry.h"
#include "bench/timer.h"

namespace pmsdsen::bench {

struct KernelRunOptions {
  Device device;
  TimerOptions timer;
  bool cudnn = true;         // time the cuDNN baselines (CUDA builds with cuDNN)
  int64_t budget_bytes = 0;  // memory for all sets of one bench; 0: GPU min(4 GiB, memory/4), CPU 1 GiB
  int64_t max_sets = 512;    // cap on the rotation sets (1: no rotation, e.g. under a sanitizer)
  uint64_t seed = 1;
  double tolerance = 1e-3;   // largest relative error (L2) a baseline may differ by
};

// One JSON record (fields in bench/RESULTS.md). copy_gbps: the copy bandwidth of this run.
nlohmann::json run_kernel_bench(const KernelBench& bench, const KernelRunOptions& options,
                                const DeviceInfo& info, double copy_gbps);

// Descriptive fields of a record (what run_kernel_bench starts from).
nlohmann::json describe(const KernelBench& bench);

// ||a - b||_2 / ||b||_2 over all elements (NaN when any is NaN or the shapes differ).
double rel_l2_error(const Tensor& a, const Tensor& b);
// Elements of an output still holding the poison value (NaN for floats, kPoisonInt else).
int64_t count_unwritten(const Tensor& t);
void poison(Tensor& t);
constexpr double kPoisonInt = -123456789.0;

}  // namespace pmsdsen::bench
