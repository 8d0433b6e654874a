#include "cuda/metrics.h"

#include <algorithm>

#include "core/allocator.h"
#include "cuda/launch.cuh"

namespace pmsdsen::cuda {
namespace {

using Count = unsigned long long;

struct DeviceBuffer {
  void* ptr;
  size_t bytes;
  ~DeviceBuffer() { deallocate(ptr, bytes, Device::cuda()); }
};

// Each block counts into a shared-memory histogram, then adds it to the global one.
__global__ void confusion_shared_kernel(const int64_t* __restrict__ labels,
                                        const int64_t* __restrict__ preds, int64_t n, int64_t k,
                                        int64_t ignore, Count* __restrict__ counts) {
  PMSDSEN_DYNAMIC_SHARED(Count, hist);
  const int64_t bins = k * k + 1;
  for (int64_t b = threadIdx.x; b < bins; b += blockDim.x) hist[b] = 0;
  __syncthreads();
  PMSDSEN_GRID_STRIDE(i, n) {
    const int64_t l = labels[i], p = preds[i];
    if (l == ignore) continue;
    const bool ok = l >= 0 && l < k && p >= 0 && p < k;
    atomicAdd(&hist[ok ? l * k + p : k * k], 1ull);
  }
  __syncthreads();
  for (int64_t b = threadIdx.x; b < bins; b += blockDim.x)
    if (hist[b]) atomicAdd(&counts[b], hist[b]);
}

// Too many classes for shared memory: count into global memory directly.
__global__ void confusion_global_kernel(const int64_t* __restrict__ labels,
                                        const int64_t* __restrict__ preds, int64_t n, int64_t k,
                                        int64_t ignore, Count* __restrict__ counts) {
  PMSDSEN_GRID_STRIDE(i, n) {
    const int64_t l = labels[i], p = preds[i];
    if (l == ignore) continue;
    const bool ok = l >= 0 && l < k && p >= 0 && p < k;
    atomicAdd(&counts[ok ? l * k + p : k * k], 1ull);
  }
}

}  // namespace

void confusion_counts(const int64_t* labels, const int64_t* predictions, int64_t n,
                      int64_t classes, int64_t ignore_label, int64_t* host_counts) {
  const int64_t bins = classes * classes + 1;
  const size_t bytes = static_cast<size_t>(bins) * sizeof(Count);
  cudaStream_t stream = cuda_env::stream();
  DeviceBuffer buffer{allocate(bytes, Device::cuda()), bytes};
  Count* counts = static_cast<Count*>(buffer.ptr);
  PMSDSEN_CUDA_CHECK(cudaMemsetAsync(counts, 0, bytes, stream));
  if (n > 0) {
    const unsigned grid = std::min<unsigned>(grid_for(n), 1024);
    if (bytes <= 32 * 1024) {
      PMSDSEN_LAUNCH(confusion_shared_kernel, grid, kThreads, bytes)(labels, predictions, n, classes, ignore_label,
          counts);
    } else {
      PMSDSEN_LAUNCH(confusion_global_kernel, grid, kThreads, 0)(labels, predictions, n, classes, ignore_label,
          counts);
    }
  }
  PMSDSEN_CUDA_CHECK(cudaMemcpyAsync(host_counts, counts, bytes, cudaMemcpyDeviceToHost, stream));
  PMSDSEN_CUDA_CHECK(cudaStreamSynchronize(stream));
}

}  // namespace pmsdsen::cuda
