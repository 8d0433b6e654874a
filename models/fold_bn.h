#pragma once
// Inference with each BatchNorm folded into the convolution before it: in evaluation
// mode BN(conv(x)) = conv'(x) with every output channel's weights scaled by
// gamma / sqrt(var + eps) and the bias (b - mean) * gamma / sqrt(var + eps) + beta, which
// saves one pass over the activations per convolution. The folded weights are computed
// on every forward (with the BN op itself, on the model's device), so they can never be
// stale; they are small next to the activations. Only when no gradient is recorded and
// the BN uses its running statistics (evaluation, or frozen); otherwise layers run one
// by one. Results agree with the unfolded ones to float32 rounding.
#include "layers/batchnorm.h"
#include "layers/sequential.h"

namespace pmsdsen {

// Whether `bn` after a convolution can be folded into it right now.
bool can_fold(const BatchNorm2d& bn);

// bn(conv(x)) as one convolution; conv is a Conv2d or ConvTranspose2d (reported to an
// active LayerTrace as itself).
Tensor conv_bn_folded(Module& conv, BatchNorm2d& bn, const Tensor& x);

// A Sequential that folds every (Conv2d | ConvTranspose2d, BatchNorm2d) pair of its
// children when it can. Keys and behaviour otherwise as Sequential.
class FoldingSequential : public Sequential {
 public:
  using Sequential::Sequential;
  Tensor forward(const Tensor& x) override;
};

}  // namespace pmsdsen
