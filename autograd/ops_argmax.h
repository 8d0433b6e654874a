#pragma once
// The per-pixel prediction: the class with the largest logit.
#include "core/tensor.h"

namespace pmsdsen::ops {

// Index of the largest logit per pixel: [N, K, H, W] -> int64 [N, H, W] (not differentiable);
// the first maximum on ties, a NaN counts as the largest.
Tensor argmax_channels(const Tensor& logits);

}  // namespace pmsdsen::ops
