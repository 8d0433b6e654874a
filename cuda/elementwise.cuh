#pragma once
// Memory-bound maps over [planes, S] tensors whose op may depend on the plane's channel
// (batch norm, PReLU) or not (activations: planes = C = 1). Loads and stores are float4
// when S is a multiple of 4 and the pointers are 16-byte aligned. Include from .cu only.
//
// An op provides `channel(c)`, returning a small functor for the plane's channel:
// unary maps call k(x), binary maps k(a, b).
#include <cstdint>

#include "cuda/launch.cuh"

namespace pmsdsen::cuda {

namespace detail {

template <class K>
__device__ __forceinline__ float4 apply4(const K& k, float4 a) {
  return make_float4(k(a.x), k(a.y), k(a.z), k(a.w));
}
template <class K>
__device__ __forceinline__ float4 apply4(const K& k, float4 a, float4 b) {
  return make_float4(k(a.x, b.x), k(a.y, b.y), k(a.z, b.z), k(a.w, b.w));
}

template <bool kVec, class Op>
__global__ void channel_unary_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t planes,
                                     int64_t C, int64_t S, Op op) {
  for (int64_t plane = blockIdx.y; plane < planes; plane += gridDim.y) {
    const auto k = op.channel(plane % C);
    const int64_t base = plane * S;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if constexpr (kVec) {
      const float4* xp = reinterpret_cast<const float4*>(x + base);
      float4* yp = reinterpret_cast<float4*>(y + base);
      for (int64_t i = first; i < S / 4; i += stride) yp[i] = apply4(k, xp[i]);
    } else {
      for (int64_t i = first; i < S; i += stride) y[base + i] = k(x[base + i]);
    }
  }
}

template <bool kVec, class Op>
__global__ void channel_binary_kernel(const float* __restrict__ a, const float* __restrict__ b,
                                      float* __restrict__ y, int64_t planes, int64_t C, int64_t S, Op op) {
  for (int64_t plane = blockIdx.y; plane < planes; plane += gridDim.y) {
    const auto k = op.channel(plane % C);
    const int64_t base = plane * S;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if constexpr (kVec) {
      const float4* ap = reinterpret_cast<const float4*>(a + base);
      const float4* bp = reinterpret_cast<const float4*>(b + base);
      float4* yp = reinterpret_cast<float4*>(y + base);
      for (int64_t i = first; i < S / 4; i += stride) yp[i] = apply4(k, ap[i], bp[i]);
    } else {
      for (int64_t i = first; i < S; i += stride) y[base + i] = k(a[base + i], b[base + i]);
    }
  }
}

inline bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// Blocks along a plane (x) and across planes (y), enough for a few waves of the GPU.
inline dim3 plane_grid(int64_t planes, int64_t units) {
  const int64_t y = std::min<int64_t>(planes, 65535);
  const int64_t want_x = (units + kThreads - 1) / kThreads;
  const int64_t cap_x = std::max<int64_t>(1, 16384 / y);
  return dim3(static_cast<unsigned>(std::max<int64_t>(1, std::min(want_x, cap_x))), static_cast<unsigned>(y));
}

}  // namespace detail

template <class Op>
void channel_map(const float* x, float* y, int64_t planes, int64_t C, int64_t S, Op op) {
  if (planes == 0 || S == 0) return;
  const bool vec = S % 4 == 0 && detail::aligned16(x) && detail::aligned16(y);
  const dim3 grid = detail::plane_grid(planes, vec ? S / 4 : S);
  if (vec) PMSDSEN_LAUNCH((detail::channel_unary_kernel<true, Op>), grid, kThreads, 0)(x, y, planes, C, S, op);
  else PMSDSEN_LAUNCH((detail::channel_unary_kernel<false, Op>), grid, kThreads, 0)(x, y, planes, C, S, op);
}

template <class Op>
void channel_map(const float* a, const float* b, float* y, int64_t planes, int64_t C, int64_t S, Op op) {
  if (planes == 0 || S == 0) return;
  const bool vec = S % 4 == 0 && detail::aligned16(a) && detail::aligned16(b) && detail::aligned16(y);
  const dim3 grid = detail::plane_grid(planes, vec ? S / 4 : S);
  if (vec) PMSDSEN_LAUNCH((detail::channel_binary_kernel<true, Op>), grid, kThreads, 0)(a, b, y, planes, C, S, op);
  else PMSDSEN_LAUNCH((detail::channel_binary_kernel<false, Op>), grid, kThreads, 0)(a, b, y, planes, C, S, op);
}

// Ops without a channel dependence: one "plane" of n elements.
template <class K>
struct NoChannel {
  K k;
  __device__ K channel(int64_t) const { return k; }
};

template <class K>
void flat_map(const float* x, float* y, int64_t n, K k) {
  channel_map(x, y, 1, 1, n, NoChannel<K>{k});
}
template <class K>
void flat_map(const float* a, const float* b, float* y, int64_t n, K k) {
  channel_map(a, b, y, 1, 1, n, NoChannel<K>{k});
}

}  // namespace pmsdsen::cuda
