#pragma once
// CPU kernel of the per-pixel argmax over the channels of [N, K, S]. Float and double.
#include <cstdint>

namespace pmsdsen::cpu {

// out[n, s] = the first k with the largest x[n, k, s] (a NaN counts as largest).
template <class T>
void argmax_channels(const T* x, int64_t* out, int64_t N, int64_t K, int64_t S);

}  // namespace pmsdsen::cpu
