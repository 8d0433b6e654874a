// Placeholder until the operator kernels land: every entry point reports that it is
// not implemented yet.
#include "autograd/ops_nn.h"

namespace pmsdsen::ops {

Tensor batch_norm(const Tensor&, const Tensor&, const Tensor&, Tensor&, Tensor&, bool, double, double) {
  PMSDSEN_FAIL("batch_norm: not implemented yet");
}
Tensor gelu(const Tensor&) { PMSDSEN_FAIL("gelu: not implemented yet"); }
Tensor prelu(const Tensor&, const Tensor&) { PMSDSEN_FAIL("prelu: not implemented yet"); }
Tensor leaky_relu(const Tensor&, double) { PMSDSEN_FAIL("leaky_relu: not implemented yet"); }
Tensor sigmoid(const Tensor&) { PMSDSEN_FAIL("sigmoid: not implemented yet"); }
Tensor softmax_groups(const Tensor&, int64_t) { PMSDSEN_FAIL("softmax_groups: not implemented yet"); }
Tensor avg_pool2d(const Tensor&, int64_t, int64_t, int64_t) { PMSDSEN_FAIL("avg_pool2d: not implemented yet"); }
Tensor max_pool2d(const Tensor&, int64_t, int64_t, int64_t) { PMSDSEN_FAIL("max_pool2d: not implemented yet"); }
Tensor global_avg_pool(const Tensor&) { PMSDSEN_FAIL("global_avg_pool: not implemented yet"); }
Tensor bilinear(const Tensor&, int64_t, int64_t, bool, double, double) {
  PMSDSEN_FAIL("bilinear: not implemented yet");
}
Tensor bilinear_scale(const Tensor&, double, bool) { PMSDSEN_FAIL("bilinear_scale: not implemented yet"); }
Tensor cross_entropy(const Tensor&, const Tensor&, const CrossEntropyOptions&) {
  PMSDSEN_FAIL("cross_entropy: not implemented yet");
}
Tensor argmax_channels(const Tensor&) { PMSDSEN_FAIL("argmax_channels: not implemented yet"); }

}  // namespace pmsdsen::ops
