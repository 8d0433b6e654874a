#pragma once
// CUDA kernel of the per-pixel argmax over the channels of [N, K, S] (float32).
#include <cstdint>

namespace pmsdsen::cuda {

// out[n, s] = the first k with the largest x[n, k, s] (a NaN counts as largest).
void argmax_channels(const float* x, int64_t* out, int64_t N, int64_t K, int64_t S);

}  // namespace pmsdsen::cuda
