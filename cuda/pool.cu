#include "cuda/pool.h"

#include <cfloat>

#include "core/pool_math.h"
#include "core/scalar_math.h"
#include "cuda/launch.cuh"
#include "cuda/reduce.cuh"

namespace pmsdsen::cuda {
namespace {

// Grid over (positions of a plane) x (planes); kernels loop over planes beyond 65535.
dim3 position_grid(int64_t positions, int64_t planes) {
  return dim3(static_cast<unsigned>((positions + kThreads - 1) / kThreads),
              static_cast<unsigned>(std::min<int64_t>(planes, 65535)));
}

#define PMSDSEN_FOR_PLANES(plane, planes) \
  for (int64_t plane = blockIdx.y; plane < (planes); plane += gridDim.y)

__global__ void avg_forward_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t planes, int H,
                                   int W, int OH, int OW, int k, int s, int p) {
  const int pos = blockIdx.x * blockDim.x + threadIdx.x;
  if (pos >= OH * OW) return;
  int h0, h1, dh, w0, w1, dw;
  hd::avg_pool_window(pos / OW, k, s, p, H, h0, h1, dh);
  hd::avg_pool_window(pos % OW, k, s, p, W, w0, w1, dw);
  PMSDSEN_FOR_PLANES(plane, planes) {
    y[plane * OH * OW + pos] = hd::avg_pool_at(x + plane * H * W, W, h0, h1, w0, w1, dh * dw);
  }
}

__global__ void avg_backward_kernel(const float* __restrict__ gy, float* __restrict__ gx, int64_t planes, int H,
                                    int W, int OH, int OW, int k, int s, int p) {
  const int pos = blockIdx.x * blockDim.x + threadIdx.x;
  if (pos >= H * W) return;
  PMSDSEN_FOR_PLANES(plane, planes) {
    gx[plane * H * W + pos] = hd::avg_pool_grad_at(gy + plane * OH * OW, pos / W, pos % W, H, W, OH, OW, k, s, p);
  }
}

__global__ void max_forward_kernel(const float* __restrict__ x, float* __restrict__ y, int32_t* __restrict__ index,
                                   int64_t planes, int H, int W, int OH, int OW, int k, int s, int p) {
  const int pos = blockIdx.x * blockDim.x + threadIdx.x;
  if (pos >= OH * OW) return;
  int h0, h1, w0, w1;
  hd::max_pool_window(pos / OW, k, s, p, H, h0, h1);
  hd::max_pool_window(pos % OW, k, s, p, W, w0, w1);
  PMSDSEN_FOR_PLANES(plane, planes) {
    const int64_t out = plane * OH * OW + pos;
    y[out] = hd::max_pool_at(x + plane * H * W, W, h0, h1, w0, w1, index[out]);
  }
}

__global__ void max_backward_kernel(const float* __restrict__ gy, const int32_t* __restrict__ index,
                                    float* __restrict__ gx, int64_t planes, int H, int W, int OH, int OW, int k,
                                    int s, int p) {
  const int pos = blockIdx.x * blockDim.x + threadIdx.x;
  if (pos >= H * W) return;
  PMSDSEN_FOR_PLANES(plane, planes) {
    const int64_t first = plane * OH * OW;
    gx[plane * H * W + pos] = hd::max_pool_grad_at(gy + first, index + first, pos / W, pos % W, W, OH, OW, k, s, p);
  }
}

constexpr int kPlaneThreads = 512;

// One block per plane: a fixed-order sum, so the mean is reproducible.
__global__ void __launch_bounds__(kPlaneThreads)
global_avg_forward_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t S) {
  const float* xp = x + static_cast<int64_t>(blockIdx.x) * S;
  double acc = 0.0;  // in double as on the CPU
  for (int64_t i = threadIdx.x; i < S; i += blockDim.x) acc += xp[i];
  acc = block_sum(acc);
  if (threadIdx.x == 0) y[blockIdx.x] = static_cast<float>(acc / static_cast<double>(S));
}

__global__ void global_avg_backward_kernel(const float* __restrict__ gy, float* __restrict__ gx, int64_t planes,
                                           int64_t S) {
  PMSDSEN_FOR_PLANES(plane, planes) {
    const float v = gy[plane] / static_cast<float>(S);
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < S;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x)
      gx[plane * S + i] = v;
  }
}

}  // namespace

void avg_pool2d_forward(const float* x, float* y, int64_t planes, int H, int W, int OH, int OW, int k, int s,
                        int p) {
  if (planes == 0) return;
  PMSDSEN_LAUNCH(avg_forward_kernel, position_grid(OH * OW, planes), kThreads, 0)(x, y, planes, H, W, OH, OW, k, s,
      p);
}

void avg_pool2d_backward(const float* gy, float* gx, int64_t planes, int H, int W, int OH, int OW, int k, int s,
                         int p) {
  if (planes == 0) return;
  PMSDSEN_LAUNCH(avg_backward_kernel, position_grid(H * W, planes), kThreads, 0)(gy, gx, planes, H, W, OH, OW, k, s,
      p);
}

void max_pool2d_forward(const float* x, float* y, int32_t* index, int64_t planes, int H, int W, int OH, int OW,
                        int k, int s, int p) {
  if (planes == 0) return;
  PMSDSEN_LAUNCH(max_forward_kernel, position_grid(OH * OW, planes), kThreads, 0)(x, y, index, planes, H, W, OH, OW,
      k, s, p);
}

void max_pool2d_backward(const float* gy, const int32_t* index, float* gx, int64_t planes, int H, int W, int OH,
                         int OW, int k, int s, int p) {
  if (planes == 0) return;
  PMSDSEN_LAUNCH(max_backward_kernel, position_grid(H * W, planes), kThreads, 0)(gy, index, gx, planes, H, W, OH,
      OW, k, s, p);
}

void global_avg_pool_forward(const float* x, float* y, int64_t planes, int64_t S) {
  if (planes == 0) return;
  PMSDSEN_CHECK(planes <= 0x7fffffff, "global_avg_pool: too many planes (", planes, ")");
  PMSDSEN_LAUNCH(global_avg_forward_kernel, static_cast<unsigned>(planes), reduce_threads(S, 8, kPlaneThreads), 0)(
      x, y, S);
}

void global_avg_pool_backward(const float* gy, float* gx, int64_t planes, int64_t S) {
  if (planes == 0) return;
  const dim3 grid(static_cast<unsigned>(std::min<int64_t>((S + kThreads - 1) / kThreads, 1024)),
                  static_cast<unsigned>(std::min<int64_t>(planes, 65535)));
  PMSDSEN_LAUNCH(global_avg_backward_kernel, grid, kThreads, 0)(gy, gx, planes, S);
}

}  // namespace pmsdsen::cuda
