#include "cuda/argmax.h"

#include "core/argmax_math.h"
#include "cuda/launch.cuh"

namespace pmsdsen::cuda {
namespace {

// One thread per pixel; the K logits of a pixel are S apart, so a warp reads them coalesced.
__global__ void argmax_kernel(const float* __restrict__ x, int64_t* __restrict__ out, int64_t pixels, int64_t K,
                              int64_t S) {
  PMSDSEN_GRID_STRIDE(i, pixels) {
    const int64_t n = i / S, s = i - n * S;
    out[i] = hd::argmax_strided(x + n * K * S + s, K, S);
  }
}

}  // namespace

void argmax_channels(const float* x, int64_t* out, int64_t N, int64_t K, int64_t S) {
  const int64_t pixels = N * S;
  if (pixels == 0) return;
  PMSDSEN_LAUNCH(argmax_kernel, grid_for(pixels), kThreads, 0)(x, out, pixels, K, S);
}

}  // namespace pmsdsen::cuda
