#pragma once
// The basic differentiable ops. All take and return NCHW-contiguous tensors on one
// device; shapes must agree exactly (no implicit broadcasting), and a mismatch is an
// error naming the op and both shapes.
#include <vector>

#include "core/tensor.h"

namespace pmsdsen::ops {

Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor scale(const Tensor& x, double factor);
// x [N, C, ...] times s [N, C, 1, 1] (one factor per sample and channel).
Tensor mul_channel(const Tensor& x, const Tensor& s);
// Sum / mean of all elements: a 0-dimensional tensor.
Tensor sum(const Tensor& x);
Tensor mean(const Tensor& x);
// Along dim 1; all other dims must agree.
Tensor concat_channels(const std::vector<Tensor>& xs);
Tensor slice_channels(const Tensor& x, int64_t start, int64_t length);
// Same elements, new shape (one dim may be -1).
Tensor reshape(const Tensor& x, const Shape& shape);
// [M, K] x [K, N] -> [M, N]
Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace pmsdsen::ops

namespace pmsdsen {
inline Tensor operator+(const Tensor& a, const Tensor& b) { return ops::add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return ops::sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return ops::mul(a, b); }
inline Tensor operator*(const Tensor& a, double s) { return ops::scale(a, s); }
inline Tensor operator*(double s, const Tensor& a) { return ops::scale(a, s); }
}  // namespace pmsdsen
