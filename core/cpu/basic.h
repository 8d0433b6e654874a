#pragma once
// CPU kernels of the basic ops: elementwise arithmetic, channel-broadcast multiply,
// reductions and channel copies. Templates over float and double
// (double for gradient checks); pointers are to contiguous memory.
#include <cstdint>

namespace pmsdsen::cpu {

// y = alpha * a + beta * b   (add, subtract and scale are special cases; b may be null when beta = 0)
template <class T>
void axpby(T alpha, const T* a, T beta, const T* b, T* y, int64_t n);
// y = a * b
template <class T>
void mul(const T* a, const T* b, T* y, int64_t n);
// y[p, i] = x[p, i] * s[p] over `planes` planes of `plane_size` elements.
template <class T>
void mul_channel(const T* x, const T* s, T* y, int64_t planes, int64_t plane_size);
// gs[p] = sum_i g[p, i] * x[p, i]
template <class T>
void dot_planes(const T* g, const T* x, T* gs, int64_t planes, int64_t plane_size);
// Sum of all elements, accumulated in double, in an order fixed by n alone (not by the
// thread count), so results are reproducible.
template <class T>
T sum(const T* x, int64_t n);
template <class T>
void fill(T* y, T value, int64_t n);
// y[i] = factor * value[0]
template <class T>
void broadcast_scalar(const T* value, T factor, T* y, int64_t n);

// Copies `channels` channels of every sample between NC(HW) layouts: for each of
// `batch` samples, channels [src_first, src_first + channels) of src (which has
// src_channels) go to [dst_first, ...) of dst (dst_channels). Any dtype: sizes in bytes.
void copy_channels(const void* src, int64_t src_channels, int64_t src_first, void* dst,
                   int64_t dst_channels, int64_t dst_first, int64_t channels, int64_t batch,
                   int64_t plane_bytes);

}  // namespace pmsdsen::cpu
