#pragma once
// CUDA kernels of floor-mode 2-D pooling (float32, device pointers). Mirrors
// core/cpu/pool.h; the backward passes are gathers (no atomics).
#include <cstdint>

namespace pmsdsen::cuda {

void avg_pool2d_forward(const float* x, float* y, int64_t planes, int H, int W, int OH, int OW,
                        int k, int s, int p);
void avg_pool2d_backward(const float* gy, float* gx, int64_t planes, int H, int W, int OH, int OW,
                         int k, int s, int p);
void max_pool2d_forward(const float* x, float* y, int32_t* index, int64_t planes, int H, int W,
                        int OH, int OW, int k, int s, int p);
void max_pool2d_backward(const float* gy, const int32_t* index, float* gx, int64_t planes, int H,
                         int W, int OH, int OW, int k, int s, int p);
void global_avg_pool_forward(const float* x, float* y, int64_t planes, int64_t S);
void global_avg_pool_backward(const float* gy, float* gx, int64_t planes, int64_t S);

}  // namespace pmsdsen::cuda
