#pragma once
// Activations and the softmax across channel groups, with PyTorch's semantics.
#include "autograd/epilogue_spec.h"
#include "core/tensor.h"

namespace pmsdsen::ops {

Tensor gelu(const Tensor& x);                        // exact, erf form
Tensor prelu(const Tensor& x, const Tensor& slope);  // slope [C] per channel, or [1] shared
Tensor leaky_relu(const Tensor& x, double negative_slope);
Tensor sigmoid(const Tensor& x);

// x [N, G*C, ...]: softmax across the G channel groups at every (c, position).
Tensor softmax_groups(const Tensor& x, int64_t groups);

// The inference epilogue (autograd/epilogue_spec.h) over x [N, C, ...] in one pass: what
// follows a product in evaluation (folded BN, activation, residual, ECA's scale). Not
// differentiable: refuses operands that need a gradient while gradients are recorded.
Tensor epilogue(const Tensor& x, const EpilogueSpec& e);
// The same, written over x (which nothing else may still need).
void epilogue_(const Tensor& x, const EpilogueSpec& e);

}  // namespace pmsdsen::ops
