#pragma once
// The fused CUDA SGD step: one kernel updates every parameter (a multi-tensor apply).
// The table of tensors lives in device memory; it is uploaded (asynchronously, from
// pinned memory) only when it differs from the previous step's.
#include <cstdint>
#include <memory>
#include <vector>

namespace pmsdsen::cuda {

struct SgdSlot {
  float* param;
  const float* grad;
  float* buf;  // null when momentum is 0
  int64_t numel;
  int64_t first_step;  // buf is uninitialised: set it to d (64-bit: no padding in the table)
};

class FusedSgd {
 public:
  FusedSgd();
  ~FusedSgd();
  FusedSgd(const FusedSgd&) = delete;
  FusedSgd& operator=(const FusedSgd&) = delete;

  void step(const std::vector<SgdSlot>& slots, double lr, double momentum, double weight_decay);
  // How many times the table was uploaded (for tests of the caching).
  int64_t uploads() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace pmsdsen::cuda
