#pragma once
// Padding and cropping of CPU images and maps [N, C, H, W] at the bottom and right: how
// the prediction path (predict.h) fits any image size to the network's multiples of 8.
#include <cstdint>

#include "core/tensor.h"

namespace pmsdsen {

// x padded with zeros at the bottom and right to multiples of `multiple` (returned as is
// when already there).
Tensor pad_to_multiple(const Tensor& x, int64_t multiple);
// The top-left [N, C, h, w] of x [N, C, H, W].
Tensor crop_top_left(const Tensor& x, int64_t h, int64_t w);

}  // namespace pmsdsen
