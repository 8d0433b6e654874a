#pragma once
// Kernel launches and shared memory, written once for both builds (include from .cu
// files only):
//   PMSDSEN_LAUNCH(kernel, grid, block, shared_bytes)(args...)
//     queues the kernel on the library's stream and throws, naming the kernel and the
//     launch site, if the launch fails. nvcc builds it on <<<...>>>; the emulated build
//     (cuda/emu) on its CPU launcher. A template kernel goes in parentheses:
//     PMSDSEN_LAUNCH((scale_kernel<float, Op>), grid, 256, 0)(x, y, n, op).
//   PMSDSEN_SHARED(type, name[, [extent]...]) declares a static __shared__ variable;
//   PMSDSEN_DYNAMIC_SHARED(type, name) the dynamic shared array (extern __shared__ name[]).
// One launch macro at every site rather than a build-time rewrite of <<<...>>>: the
// source stays valid C++ and CUDA alike, error messages point at the real lines, and
// nothing is generated.
#include <algorithm>
#include <cstdint>
#include <utility>

#include "core/cuda_env.h"
#include "core/error.h"

#ifdef PMSDSEN_CUDA_EMULATE
#include "emu/launch.h"
#define PMSDSEN_SHARED(type, name, ...) \
  auto& name = ::pmsdsen::emu::block_shared<type __VA_ARGS__>([] {}, #name)
#define PMSDSEN_DYNAMIC_SHARED(type, name) type* const name = ::pmsdsen::emu::dynamic_shared<type>()
#else
#define PMSDSEN_SHARED(type, name, ...) __shared__ type name __VA_ARGS__
#define PMSDSEN_DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#endif

#define PMSDSEN_LAUNCH(kernel, grid, block, shared_bytes) \
  ::pmsdsen::cuda::make_launch(#kernel, kernel, grid, block, shared_bytes, __FILE__, __LINE__)

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

template <class... Params>
class KernelLaunch {
 public:
  KernelLaunch(const char* name, void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes,
               const char* file, int line)
      : name_(name), kernel_(kernel), grid_(grid), block_(block), shared_(shared_bytes), file_(file), line_(line) {}

  template <class... Args>
  void operator()(Args&&... args) const {
    // The runtime's last error may hold a failure some earlier call reported (and its
    // caller handled): clear it, so that what is read after the launch is the launch's.
    (void)cudaGetLastError();
#ifdef PMSDSEN_CUDA_EMULATE
    ::pmsdsen::emu::launch_kernel(name_, kernel_, grid_, block_, shared_, cuda_env::stream(),
                                  std::forward<Args>(args)...);
#else
    kernel_<<<grid_, block_, shared_, cuda_env::stream()>>>(std::forward<Args>(args)...);
#endif
    const cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess)
      throw_error(file_, line_, str("CUDA error launching ", name_, ": ", cudaGetErrorName(e), " (",
                                    cudaGetErrorString(e), ")"));
  }

 private:
  const char* name_;
  void (*kernel_)(Params...);
  dim3 grid_, block_;
  size_t shared_;
  const char* file_;
  int line_;
};

template <class... Params>
KernelLaunch<Params...> make_launch(const char* name, void (*kernel)(Params...), dim3 grid, dim3 block,
                                    size_t shared_bytes, const char* file, int line) {
  return {name, kernel, grid, block, shared_bytes, file, line};
}

}  // namespace pmsdsen::cuda
