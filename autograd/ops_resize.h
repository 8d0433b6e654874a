#pragma once
// Bilinear resizing of [N, C, H, W], with PyTorch's semantics.
#include "core/tensor.h"

namespace pmsdsen::ops {

// To [N, C, out_h, out_w]. align_corners=false uses half-pixel centres with the source
// index clamped at 0; the ratio is in/out unless scale_h/scale_w > 0 is given, which
// reproduces PyTorch's scale_factor path (ratio 1/scale).
Tensor bilinear(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners,
                double scale_h = 0.0, double scale_w = 0.0);
// PyTorch's interpolate(scale_factor=scale): output floor(in * scale).
Tensor bilinear_scale(const Tensor& x, double scale, bool align_corners);

}  // namespace pmsdsen::ops
