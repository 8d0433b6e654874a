#pragma once
// Kernel launches on the emulated device. launch_kernel is what PMSDSEN_LAUNCH
// (cuda/launch.cuh) calls in the emulated build instead of kernel<<<...>>>: the
// arguments are converted to the kernel's parameter types once, like CUDA's parameter
// buffer, and every emulated thread calls the kernel with its own copies.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "cuda_runtime_api.h"

namespace pmsdsen::emu {

// Launches so far by kernel name as written at the launch site, and cuBLAS calls as
// "cublas <function>" (a measurement aid: how many kernels a forward runs, by op). Counts
// work as it is submitted: an eager launch or a captured one, not a graph's replays.
std::map<std::string, int64_t> launch_counts();
void reset_launch_counts();
void count_launch(const std::string& name);

struct KernelLaunch {
  const char* name;    // as written at the launch site
  const void* kernel;  // identity, for cudaFuncSetAttribute
  dim3 grid, block;
  size_t shared_bytes;
  cudaStream_t stream;
};

// A non-null pointer argument: it must point into device memory.
struct PointerArgument {
  size_t index;
  const void* pointer;
};

// Runs the kernel once for the calling emulated thread.
using ThreadBody = void (*)(const void* pack);

// Checks the launch against an H100's limits and the pointer arguments, then runs every
// block (or records the launch while the stream captures). Configuration errors are
// returned as the CUDA error a GPU gives; faults found while running (a barrier or warp
// collective not reached by every thread, a host pointer argument, a fiber stack overflow)
// as cudaErrorLaunchFailure or cudaErrorIllegalAddress, described by cudaGetErrorString.
// Either way the error is also this thread's last error, as for <<<...>>>.
cudaError_t launch(const KernelLaunch& k, ThreadBody body, std::shared_ptr<const void> pack,
                   std::vector<PointerArgument> pointers);

template <class... P, class... A>
cudaError_t launch_kernel(const char* name, void (*kernel)(P...), dim3 grid, dim3 block, size_t shared_bytes,
                          cudaStream_t stream, A&&... args) {
  static_assert(sizeof...(P) == sizeof...(A), "emulated CUDA: wrong number of kernel arguments");
  using Params = std::tuple<std::decay_t<P>...>;
  struct Pack {
    void (*kernel)(P...);
    Params params;
  };
  auto pack = std::make_shared<const Pack>(Pack{kernel, Params(std::forward<A>(args)...)});
  std::vector<PointerArgument> pointers;
  std::apply(
      [&pointers](const auto&... p) {
        size_t i = 0;
        auto note = [&](const auto& v) {
          if constexpr (std::is_pointer_v<std::decay_t<decltype(v)>>) {
            if (v != nullptr) pointers.push_back({i, static_cast<const void*>(v)});
          }
          ++i;
        };
        (note(p), ...);
      },
      pack->params);
  const ThreadBody body = [](const void* p) {
    const Pack& k = *static_cast<const Pack*>(p);
    std::apply(k.kernel, k.params);  // by value: each thread gets its own parameters
  };
  return launch({name, reinterpret_cast<const void*>(kernel), grid, block, shared_bytes, stream}, body,
                std::move(pack), std::move(pointers));
}

}  // namespace pmsdsen::emu
