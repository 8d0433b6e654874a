#include <cstdint>

#include "bench/gpu_spin.h"
#include "core/cuda_env.h"

namespace pmsdsen::bench {
namespace {

__device__ __forceinline__ uint64_t global_ns() {
  uint64_t t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__global__ void spin_kernel(uint64_t ns) {
  const uint64_t start = global_ns();
  // The iteration cap bounds the spin even if the timer were not to advance.
  for (int64_t i = 0; i < (int64_t(1) << 26) && global_ns() - start < ns; ++i) __nanosleep(500);
}

}  // namespace

void gpu_spin(double microseconds) {
  if (microseconds <= 0) return;
  spin_kernel<<<1, 1, 0, cuda_env::stream()>>>(static_cast<uint64_t>(microseconds * 1e3));
  PMSDSEN_CUDA_CHECK_LAUNCH();
}

}  // namespace pmsdsen::bench
