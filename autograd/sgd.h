#pragma once
// SGD with momentum and weight decay, PyTorch semantics (dampening 0, no Nesterov):
//   d = grad + weight_decay * p;  buf = d (first step) or momentum * buf + d;  p -= lr * buf.
// Parameters without a gradient are skipped, as PyTorch does; a momentum buffer is created
// on a parameter's first step (none with momentum 0). On CUDA one fused kernel updates
// every parameter; CPU parameters (float32 or float64) are updated by one parallel loop.
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace pmsdsen {

struct SgdOptions {
  double momentum = 0.9;
  double weight_decay = 1e-4;
};

class Sgd {
 public:
  Sgd(std::vector<Tensor> params, SgdOptions options = {});

  void step(double lr);
  void zero_grad();  // sets every parameter's grad to none

  const std::vector<Tensor>& params() const { return params_; }
  // Momentum buffers, one per parameter (undefined until its first step); for checkpoints.
  std::vector<Tensor>& momentum_buffers() { return buffers_; }
  const SgdOptions& options() const { return options_; }

 private:
  std::vector<Tensor> params_;
  std::vector<Tensor> buffers_;
  SgdOptions options_;
  // Per backend, the runner of its update (the fused CUDA kernel keeps its table).
  struct Runners;
  std::shared_ptr<Runners> runners_;
};

}  // namespace pmsdsen
