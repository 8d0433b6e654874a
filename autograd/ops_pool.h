#pragma once
// Pooling on [N, C, H, W], with PyTorch's semantics.
#include "core/tensor.h"

namespace pmsdsen::ops {

// Floor-mode pooling; padding at most kernel / 2, as PyTorch requires. Average pooling
// counts padded zeros (count_include_pad=True). Max pooling passes the gradient to the
// first maximum of each window in scan order; a NaN wins.
Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding);
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding);
Tensor global_avg_pool(const Tensor& x);  // [N, C, H, W] -> [N, C, 1, 1]

}  // namespace pmsdsen::ops
