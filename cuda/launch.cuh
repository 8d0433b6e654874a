#pragma once
// Launch helpers for the elementwise-style kernels (include from .cu files only).
#include <algorithm>
#include <cstdint>

#include "core/cuda_env.h"

namespace pmsdsen::cuda {

constexpr int kThreads = 256;

// Enough blocks for a grid-stride loop over n items, capped so that launches stay cheap.
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(blocks, 65535 * 8)));
}

#define PMSDSEN_GRID_STRIDE(i, n)                                                        \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

}  // namespace pmsdsen::cuda
