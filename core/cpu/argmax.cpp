#include "core/cpu/argmax.h"

#include <algorithm>

#include "core/argmax_math.h"
#include "core/cpu/grain.h"
#include "core/parallel.h"

namespace pmsdsen::cpu {

template <class T>
void argmax_channels(const T* x, int64_t* out, int64_t N, int64_t K, int64_t S) {
  constexpr int64_t kBlock = 512;  // pixels per task
  const int64_t blocks = (S + kBlock - 1) / kBlock;
  parallel_for(0, N * blocks, [&](int64_t task) {
    const int64_t n = task / blocks, s0 = (task % blocks) * kBlock, s1 = std::min(S, s0 + kBlock);
    for (int64_t s = s0; s < s1; ++s) out[n * S + s] = hd::argmax_strided(x + n * K * S + s, K, S);
  }, grain_for(kBlock * K));
}

template void argmax_channels<float>(const float*, int64_t*, int64_t, int64_t, int64_t);
template void argmax_channels<double>(const double*, int64_t*, int64_t, int64_t, int64_t);

}  // namespace pmsdsen::cpu
