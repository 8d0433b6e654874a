#pragma once
// The inference plan of a trained PMSDSEN on the CPU: evaluation mode only (training
// keeps the autograd path). Built once from the model: batch norms folded, weights
// packed; for each input shape a program is compiled (the first run at that shape) with
// every activation in one arena planned from tensor lifetimes, channels-last tensors,
// fused epilogues and no concatenation; later runs at the same shape allocate nothing
// but their outputs (and reuse those too once the caller has dropped them).
//
// The plan copies the weights: changes to the model after it is built are not seen
// (build a new plan after training). Results equal the eager evaluation forward to
// float rounding (BN folded in double, sums in another order): within 1e-4 relative.
#include <array>
#include <memory>
#include <vector>

#include "models/pmsdsen.h"
#include "models/plan/program.h"

namespace pmsdsen::plan {

class PlanWeights;
struct PlanIo;

class InferencePlan {
 public:
  explicit InferencePlan(const PMSDSEN& model);
  ~InferencePlan();
  InferencePlan(const InferencePlan&) = delete;
  InferencePlan& operator=(const InferencePlan&) = delete;

  // x: CPU float32 [N, 3, H, W], H and W multiples of 8. With heads, also the x4 and x8
  // deep-supervision outputs. Outputs are CPU float32 [N, classes, H, W].
  PmsdsenOutput run(const Tensor& x, bool heads = false);
  Tensor forward(const Tensor& x) { return run(x, false).logits; }

  // The program for inputs of this shape (compiled on demand; a batch-1 program for large
  // images, see program_batch).
  const Program& program(int64_t batch, int64_t height, int64_t width, bool heads);  // see program_batch
  // Bytes of the arena of the last compiled program (the peak of live activations).
  size_t arena_bytes() const { return program_.arena_bytes(); }
  // Bytes of all its buffers together (what the arena would be without sharing; each is
  // written once per run, so the least activation traffic when nothing stays in cache).
  size_t buffer_bytes() const;
  // All the memory the plan holds: arena, per-thread scratch, prepared weights.
  size_t memory_bytes() const;
  // Per-step times over the program runs since it was switched on (profile_runs() of them;
  // one per image when images run one at a time).
  void set_profiling(bool on);
  const std::vector<StepProfile>& profile() const { return profile_; }
  int profile_runs() const { return profile_runs_; }
  const PmsdsenConfig& config() const { return config_; }

  // Inputs of at least this many pixels run image by image through a batch-1 program.
  static constexpr int64_t kPerSamplePixels = int64_t{1} << 16;
  // The batch of the program that runs an input of this shape.
  static int64_t program_batch(int64_t batch, int64_t height, int64_t width);

 private:
  void compile(int64_t batch, int64_t height, int64_t width, bool heads);

  PmsdsenConfig config_;
  std::unique_ptr<PlanWeights> weights_;
  std::unique_ptr<PlanIo> io_;
  Program program_;
  int64_t batch_ = 0, height_ = 0, width_ = 0;
  bool heads_ = false, compiled_ = false, profiling_ = false;
  std::array<Tensor, 3> outputs_;
  std::vector<StepProfile> profile_;
  int profile_runs_ = 0;
};

}  // namespace pmsdsen::plan
