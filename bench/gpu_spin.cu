#include <cstdint>

#include "bench/gpu_spin.h"
#include "cuda/launch.cuh"

namespace pmsdsen::bench {
namespace {

__device__ __forceinline__ uint64_t global_ns() {
#ifdef PMSDSEN_CUDA_EMULATE
  return ::pmsdsen::emu::globaltimer_ns();
#else
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
#endif
}

__global__ void spin_kernel(uint64_t ns) {
  const uint64_t start = global_ns();
  // The iteration cap bounds the spin even if the timer were not to advance.
  for (int64_t i = 0; i < (int64_t(1) << 26) && global_ns() - start < ns; ++i) __nanosleep(500);
}

}  // namespace

void gpu_spin(double microseconds) {
  if (microseconds <= 0) return;
  PMSDSEN_LAUNCH(spin_kernel, 1, 1, 0)(static_cast<uint64_t>(microseconds * 1e3));
}

}  // namespace pmsdsen::bench
