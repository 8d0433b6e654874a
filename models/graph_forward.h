#pragma once
// PMSDSEN's evaluation forward on CUDA as one CUDA graph: for each input shape the
// forward is run once to warm a private memory pool (core/allocator.h), then captured,
// and every later call copies the input into the graph's input tensor, replays the whole
// network as one launch and copies the logits out. The host's per-kernel launch cost,
// which dominates a 0.92 M-parameter network at small sizes, is paid once per shape.
//
// Fused (the default): the graph runs a fused copy of the model made here
// (models/fused_model.h: BN folded once, epilogues in the kernels), so later changes to
// the model are not seen (build a new one after training, as for the CPU plan); logits
// equal model.forward within float rounding (1e-4 relative). Unfused: the graph reads
// the model's parameters where they are (keep the model alive, on CUDA, in evaluation
// mode; weights loaded afterwards with load_state_dict are seen) and its results are
// bit-identical to model.forward (the same kernels in the same order).
#include <cstdint>
#include <memory>

#include "core/allocator.h"
#include "core/tensor.h"
#include "cuda/graph.h"

namespace pmsdsen {

class PMSDSEN;

class CudaGraphForward {
 public:
  explicit CudaGraphForward(PMSDSEN& model, bool fused = true);
  ~CudaGraphForward();
  CudaGraphForward(const CudaGraphForward&) = delete;
  CudaGraphForward& operator=(const CudaGraphForward&) = delete;

  // Logits of x (float32 [N, 3, H, W], H and W multiples of 8, on CUDA) as a new tensor.
  Tensor forward(const Tensor& x);
  // Shapes captured so far (a new shape replaces the previous graph).
  int64_t captures() const { return captures_; }
  size_t graph_nodes() const { return graph_ ? graph_->nodes() : 0; }
  bool fused() const { return fused_ != nullptr; }

 private:
  void capture(const Tensor& x);

  std::unique_ptr<PMSDSEN> fused_;  // the fused copy, when fused
  PMSDSEN& model_;                  // what the graph runs: *fused_ or the caller's model
  const PMSDSEN& source_;
  // Declared before the tensors and the graph that use its blocks, so destroyed after them.
  std::unique_ptr<CudaMemoryPool> pool_;
  Tensor input_, output_;
  std::unique_ptr<cuda::CapturedGraph> graph_;
  int64_t captures_ = 0;
};

}  // namespace pmsdsen
