#pragma once
// Deterministic block reductions: a fixed tree over warp shuffles and shared memory.
// The result depends only on the values and blockDim, never on timing.
#include "cuda/launch.cuh"

namespace pmsdsen::cuda {

// Threads for a block that reduces `items` (about `per_thread` each): whole warps, at least
// one, at most max_threads. Small reductions get small blocks: no idle warps to wait at
// the barriers. It depends on the sizes only, so the summation order is still fixed.
inline int reduce_threads(int64_t items, int per_thread, int max_threads) {
  const int64_t warps = (items + int64_t(32) * per_thread - 1) / (int64_t(32) * per_thread);
  return static_cast<int>(32 * std::clamp<int64_t>(warps, 1, max_threads / 32));
}

template <class T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  return v;
}

// Sum over the block; the total is valid in thread 0. blockDim.x must be a multiple of 32
// (at most 1024). Safe to call repeatedly in one kernel.
template <class T>
__device__ __forceinline__ T block_sum(T v) {
  PMSDSEN_SHARED(T, warp_totals, [32]);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // warp_totals may still be read by a previous call
  if (lane == 0) warp_totals[warp] = v;
  __syncthreads();
  const unsigned warps = blockDim.x >> 5;
  v = threadIdx.x < warps ? warp_totals[lane] : T(0);
  if (warp == 0) v = warp_sum(v);
  return v;
}

}  // namespace pmsdsen::cuda
