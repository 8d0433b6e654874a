#pragma once
// CUDA kernels of batch normalisation (float32, device pointers, queued on the library
// stream). Mirrors core/cpu/norm.h. Per-channel reductions are two-stage: partial
// statistics per (channel, piece of a plane), then a fixed-order merge per channel, so
// results are bit-identical run to run.
#include <cstdint>

namespace pmsdsen::cuda {

void batch_norm_train_stats(const float* x, int64_t N, int64_t C, int64_t S, const float* weight,
                            const float* bias, float* running_mean, float* running_var,
                            double momentum, double eps, float* mean, float* invstd, float* scale,
                            float* shift);
void batch_norm_eval_params(const float* running_mean, const float* running_var,
                            const float* weight, const float* bias, int64_t C, double eps,
                            float* mean, float* invstd, float* scale, float* shift);
void batch_norm_apply(const float* x, const float* scale, const float* shift, float* y, int64_t N,
                      int64_t C, int64_t S);
void batch_norm_backward(const float* gy, const float* x, const float* mean, const float* invstd,
                         const float* weight, int64_t N, int64_t C, int64_t S, bool training,
                         float* gx, float* gweight, float* gbias);

}  // namespace pmsdsen::cuda
