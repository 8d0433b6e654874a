#pragma once
// Batch norms folded into the convolutions before them, two ways:
//
// Eager evaluation: BN(conv(x)) = conv'(x) with every output channel's weights scaled by
// gamma / sqrt(var + eps) and the bias (b - mean) * gamma / sqrt(var + eps) + beta, which
// saves one pass over the activations per convolution. The folded weights are computed
// on every forward (with the BN op itself, on the model's device), so they can never be
// stale; they are small next to the activations. Only when no gradient is recorded and
// the BN uses its running statistics (evaluation, or frozen); otherwise layers run one
// by one. Results agree with the unfolded ones to float32 rounding.
//
// Fused inference (Module::set_fused_inference, models/fused_model.h): the folding is
// done once, in double, and each convolution's bias and activation (and, for the caller,
// a residual) become its epilogue (ops::conv2d_epilogue); a BN not after a convolution
// and its activation become one epilogue pass.
#include <vector>

#include "autograd/epilogue_spec.h"
#include "autograd/ops_conv.h"
#include "layers/batchnorm.h"
#include "layers/sequential.h"

namespace pmsdsen {

// Whether `bn` after a convolution can be folded into it right now.
bool can_fold(const BatchNorm2d& bn);

// bn(conv(x)) as one convolution; conv is a Conv2d or ConvTranspose2d (reported to an
// active LayerTrace as itself).
Tensor conv_bn_folded(Module& conv, BatchNorm2d& bn, const Tensor& x);

// ---- fused inference ------------------------------------------------------------------

// bn in evaluation mode as x * mul + add per channel (computed in double; bn's device and dtype).
struct BnAffine {
  Tensor mul, add;
};
BnAffine bn_affine(const BatchNorm2d& bn);

// A Conv2d or ConvTranspose2d with bn (or nothing, when null) folded in, in double: the
// weight scaled per output channel, and the bias (zeros when the conv has none).
struct FoldedConv {
  Tensor weight, bias;
};
FoldedConv fold_conv_bn(const Module& conv, const BatchNorm2d* bn);

// Fused inference: `conv` (a ConvTranspose2d) with its folded weights f, then act's
// activation when it has one; reported to an active LayerTrace as `conv`.
Tensor conv_transpose_folded(Module& conv, const Tensor& x, const FoldedConv& f, const ops::EpilogueSpec& act);

// Sets e's activation from an activation layer (GELU, PReLU, LeakyReLU); false for others.
bool epilogue_activation(const Module& act, ops::EpilogueSpec& e);

// A Sequential that folds every (Conv2d | ConvTranspose2d, BatchNorm2d) pair of its
// children when it can. Fused (set_fused_inference): every (conv[, BN][, act]) is one
// convolution with its epilogue, every (BN[, act]) one epilogue pass. Keys and behaviour
// otherwise as Sequential.
class FoldingSequential : public Sequential {
 public:
  using Sequential::Sequential;
  Tensor forward(const Tensor& x) override;
  void set_fused_inference(bool on) override;

  // Fused only: the children [begin, end) (on step boundaries).
  Tensor forward_range(const Tensor& x, size_t begin, size_t end);
  // Fused only: the whole sequence, `tail`'s residual and activation applied by the
  // epilogue of the last step (a convolution without an activation of its own).
  Tensor forward_with_tail(const Tensor& x, const ops::EpilogueSpec& tail);
  // Fused only: the epilogue of a sequence that is just (BN, act), to combine with more terms.
  const ops::EpilogueSpec& affine_epilogue() const;
  // Fused only: a sequence that is just (conv[, BN][, act]) as its folded parts, for a
  // caller running it between channel windows (ops::conv2d_epilogue_into).
  struct Conv {
    Tensor weight;
    ops::Conv2dOptions options;
    ops::EpilogueSpec epilogue;
  };
  Conv fused_conv() const;

 private:
  enum class Kind { Layer, Conv, Transposed, Affine };
  struct Step {
    size_t first = 0, count = 1;  // children
    Kind kind = Kind::Layer;
    FoldedConv folded;            // Conv, Transposed (a Conv's bias is its epilogue's add)
    ops::Conv2dOptions conv;
    ops::EpilogueSpec epilogue;
  };
  Tensor run(const Step& s, const Tensor& x, const ops::EpilogueSpec* tail);

  std::vector<Step> steps_;  // fused: built by set_fused_inference
};

}  // namespace pmsdsen
