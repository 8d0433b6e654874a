#include "cuda/basic.h"

#include "core/allocator.h"
#include "cuda/launch.cuh"
#include "cuda/reduce.cuh"

namespace pmsdsen::cuda {
namespace {

__global__ void axpby_kernel(float alpha, const float* __restrict__ a, float beta,
                             const float* __restrict__ b, float* __restrict__ y, int64_t n) {
  PMSDSEN_GRID_STRIDE(i, n) y[i] = b ? alpha * a[i] + beta * b[i] : alpha * a[i];
}

__global__ void mul_kernel(const float* __restrict__ a, const float* __restrict__ b,
                           float* __restrict__ y, int64_t n) {
  PMSDSEN_GRID_STRIDE(i, n) y[i] = a[i] * b[i];
}

__global__ void mul_channel_kernel(const float* __restrict__ x, const float* __restrict__ s,
                                   float* __restrict__ y, int64_t n, int64_t plane_size) {
  PMSDSEN_GRID_STRIDE(i, n) y[i] = x[i] * s[i / plane_size];
}

// One block per plane; fixed-order tree reduction, so the result is deterministic.
__global__ void dot_planes_kernel(const float* __restrict__ g, const float* __restrict__ x,
                                  float* __restrict__ gs, int64_t plane_size) {
  const int64_t p = blockIdx.x;
  const float* gp = g + p * plane_size;
  const float* xp = x + p * plane_size;
  double acc = 0.0;  // in double as on the CPU: planes reach 10^6 elements
  for (int64_t i = threadIdx.x; i < plane_size; i += blockDim.x) acc += static_cast<double>(gp[i]) * xp[i];
  acc = block_sum(acc);
  if (threadIdx.x == 0) gs[p] = static_cast<float>(acc);
}

__global__ void partial_sum_kernel(const float* __restrict__ x, float* __restrict__ partial,
                                   int64_t n) {
  double acc = 0.0;
  PMSDSEN_GRID_STRIDE(i, n) acc += x[i];
  acc = block_sum(acc);
  if (threadIdx.x == 0) partial[blockIdx.x] = static_cast<float>(acc);
}

__global__ void final_sum_kernel(const float* __restrict__ partial, float* __restrict__ out,
                                 int count) {
  double acc = 0.0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) acc += partial[i];
  acc = block_sum(acc);
  if (threadIdx.x == 0) out[0] = static_cast<float>(acc);
}

__global__ void fill_kernel(float* __restrict__ y, float value, int64_t n) {
  PMSDSEN_GRID_STRIDE(i, n) y[i] = value;
}

__global__ void broadcast_scalar_kernel(const float* __restrict__ value, float factor,
                                        float* __restrict__ y, int64_t n) {
  const float v = factor * value[0];
  PMSDSEN_GRID_STRIDE(i, n) y[i] = v;
}

}  // namespace

void axpby(float alpha, const float* a, float beta, const float* b, float* y, int64_t n) {
  if (n == 0) return;
  PMSDSEN_LAUNCH(axpby_kernel, grid_for(n), kThreads, 0)(alpha, a, beta == 0.f ? 0.f : beta,
      beta == 0.f ? nullptr : b, y, n);
}

void mul(const float* a, const float* b, float* y, int64_t n) {
  if (n == 0) return;
  PMSDSEN_LAUNCH(mul_kernel, grid_for(n), kThreads, 0)(a, b, y, n);
}

void mul_channel(const float* x, const float* s, float* y, int64_t planes, int64_t plane_size) {
  const int64_t n = planes * plane_size;
  if (n == 0) return;
  PMSDSEN_LAUNCH(mul_channel_kernel, grid_for(n), kThreads, 0)(x, s, y, n, plane_size);
}

void dot_planes(const float* g, const float* x, float* gs, int64_t planes, int64_t plane_size) {
  if (planes == 0) return;
  PMSDSEN_LAUNCH(dot_planes_kernel, static_cast<unsigned>(planes), reduce_threads(plane_size, 8, kThreads), 0)(
      g, x, gs, plane_size);
}

void sum(const float* x, float* out, int64_t n) {
  // The grid size depends on n only, so the summation order is fixed.
  const int blocks = static_cast<int>(std::min<int64_t>(1024, std::max<int64_t>(1, (n + kThreads - 1) / kThreads)));
  // Freed right after the launches: the next user of the block is queued behind them.
  const size_t bytes = blocks * sizeof(float);
  float* partial = static_cast<float*>(allocate(bytes, Device::cuda()));
  PMSDSEN_LAUNCH(partial_sum_kernel, blocks, kThreads, 0)(x, partial, n);
  PMSDSEN_LAUNCH(final_sum_kernel, 1, reduce_threads(blocks, 4, kThreads), 0)(partial, out, blocks);
  deallocate(partial, bytes, Device::cuda());
}

void fill(float* y, float value, int64_t n) {
  if (n == 0) return;
  PMSDSEN_LAUNCH(fill_kernel, grid_for(n), kThreads, 0)(y, value, n);
}

void broadcast_scalar(const float* value, float factor, float* y, int64_t n) {
  if (n == 0) return;
  PMSDSEN_LAUNCH(broadcast_scalar_kernel, grid_for(n), kThreads, 0)(value, factor, y, n);
}

void copy_channels(const void* src, int64_t src_channels, int64_t src_first, void* dst,
                   int64_t dst_channels, int64_t dst_first, int64_t channels, int64_t batch,
                   int64_t plane_bytes) {
  if (batch == 0 || channels == 0 || plane_bytes == 0) return;
  char* d = static_cast<char*>(dst) + dst_first * plane_bytes;
  const char* s = static_cast<const char*>(src) + src_first * plane_bytes;
  const int64_t dpitch = dst_channels * plane_bytes, spitch = src_channels * plane_bytes;
  // cudaMemcpy2D refuses pitches above the device's memPitch (2^31 - 1 bytes on A100/H100).
  int max_pitch = 0;
  PMSDSEN_CUDA_CHECK(cudaDeviceGetAttribute(&max_pitch, cudaDevAttrMaxPitch, 0));
  if (dpitch <= max_pitch && spitch <= max_pitch) {
    PMSDSEN_CUDA_CHECK(cudaMemcpy2DAsync(d, dpitch, s, spitch, channels * plane_bytes, batch,
                                         cudaMemcpyDeviceToDevice, cuda_env::stream()));
    return;
  }
  for (int64_t n = 0; n < batch; ++n)
    PMSDSEN_CUDA_CHECK(cudaMemcpyAsync(d + n * dpitch, s + n * spitch, channels * plane_bytes,
                                       cudaMemcpyDeviceToDevice, cuda_env::stream()));
}

}  // namespace pmsdsen::cuda
