#pragma once
// PMSDSEN for inference with every batch norm folded once and the pointwise tails fused
// into the ops that produce them (Module::set_fused_inference): a convolution's bias and
// activation in its epilogue (on CUDA inside the 1x1 and depthwise kernels), a BN +
// activation after a sum or a concatenation one pass, PMSDSE's bn_act(sum + Attn) and
// act_out(Attn_output + x) one pass each, LRMS's residual and GELU in its tail
// convolution, DWFF's weighted sum and MSSE's two ECA products and their sum one pass
// each, ECA's convolution and sigmoid one launch; LRMS's chained branches and LDIBasic's
// halves read and write channel windows (no slice, sum or concatenation copied). The same ops on both
// devices: on the CPU it is the reference of the fusion (in double, tests), on CUDA the
// forward the CUDA graph captures (models/graph_forward.h). The CPU's fast path is the
// inference plan (models/plan/).
//
// A copy: the original model keeps training untouched, and the copy's folded weights
// cannot go stale against weights it does not share. Make a new copy after training.
#include <memory>

#include "core/device.h"
#include "models/pmsdsen.h"

namespace pmsdsen {

// model's configuration, weights and dtype on `device`, in evaluation mode, fused.
std::unique_ptr<PMSDSEN> fused_copy(const PMSDSEN& model, Device device);

}  // namespace pmsdsen
