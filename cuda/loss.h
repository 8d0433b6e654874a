#pragma once
// CUDA kernels of the softmax cross-entropy (float32, device pointers). Mirrors core/cpu/loss.h, except that every scalar (OHEM threshold, loss,
// denominator, count of bad targets) stays in device memory: nothing waits for the GPU.
#include <cstdint>

namespace pmsdsen::cuda {

void cross_entropy_pixels(const float* x, const int64_t* target, int64_t N, int64_t K, int64_t S,
                          int64_t ignore_index, float* lse, float* nll, float* prob);
// threshold[0] = the authors' OHEM threshold (see cpu::ohem_threshold). Sorts the target
// probabilities with CUB's radix sort (deterministic).
void ohem_threshold(const float* prob, const int64_t* target, int64_t pixels, int64_t K,
                    int64_t ignore_index, int64_t min_kept, double thresh, float* threshold);
// coef as cpu::cross_entropy_select; loss[0] = num / den (0 when den is 0), den[0] = den,
// bad[0] = number of targets neither ignore_index nor in [0, K). threshold may be null
// without ohem.
void cross_entropy_select(const int64_t* target, const float* nll, const float* prob,
                          const float* weight, int64_t pixels, int64_t K, int64_t ignore_index,
                          bool ohem, const float* threshold, float* coef, float* loss, float* den,
                          int64_t* bad);
// gx = (grad_loss[0] / den[0]) * coef * (softmax - onehot); 0 when den[0] is 0.
void cross_entropy_backward(const float* x, const int64_t* target, const float* lse,
                            const float* coef, const float* grad_loss, const float* den,
                            float* gx, int64_t N, int64_t K, int64_t S);

}  // namespace pmsdsen::cuda
