// Placeholder until the convolution kernels land: every entry point reports that it
// is not implemented yet.
#include "autograd/ops_conv.h"

namespace pmsdsen::ops {

Tensor conv2d(const Tensor&, const Tensor&, const Tensor&, const Conv2dOptions&) {
  PMSDSEN_FAIL("conv2d: not implemented yet");
}
Tensor conv_transpose2d(const Tensor&, const Tensor&, const Tensor&, const ConvTranspose2dOptions&) {
  PMSDSEN_FAIL("conv_transpose2d: not implemented yet");
}
Tensor channel_conv1d(const Tensor&, const Tensor&) { PMSDSEN_FAIL("channel_conv1d: not implemented yet"); }

}  // namespace pmsdsen::ops
