#pragma once
// Efficient channel attention (ECA-Net; the authors' `Attn`): x * sigmoid(conv1d over
// the channel axis of the spatial mean of x). The 1-D kernel size follows the channel
// count: k = t if t is odd else t + 1, t = int(|(log2(C) + 1) / 2|) (3 for 32 and 64
// channels, 5 for 128). Key: `conv.weight`, shape [1, 1, k].
#include "core/rng.h"
#include "layers/module.h"

namespace pmsdsen {

int64_t eca_kernel_size(int64_t channels);

class ECA : public Module {
 public:
  ECA(int64_t channels, Generator& gen);
  Tensor forward(const Tensor& x) override;  // x * scale(x)
  // sigmoid(conv1d(mean of x over its plane)): [N, C, 1, 1], for a caller fusing the product.
  Tensor scale(const Tensor& x);
  // Fused inference: the 1-D convolution and its sigmoid in one op (ops::eca_scale).
  int64_t channels() const { return channels_; }
  std::string type_name() const override { return "ECA"; }

 private:
  int64_t channels_;
  std::shared_ptr<Module> conv_;
};

}  // namespace pmsdsen
