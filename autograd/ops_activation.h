#pragma once
// Activations and the softmax across channel groups, with PyTorch's semantics.
#include "core/tensor.h"

namespace pmsdsen::ops {

Tensor gelu(const Tensor& x);                        // exact, erf form
Tensor prelu(const Tensor& x, const Tensor& slope);  // slope [C] per channel, or [1] shared
Tensor leaky_relu(const Tensor& x, double negative_slope);
Tensor sigmoid(const Tensor& x);

// x [N, G*C, ...]: softmax across the G channel groups at every (c, position).
Tensor softmax_groups(const Tensor& x, int64_t groups);

}  // namespace pmsdsen::ops
