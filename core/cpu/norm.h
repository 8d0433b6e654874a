#pragma once
// CPU kernels of batch normalisation over x [N, C, S] (S = H*W), float and double.
// Per-channel arrays have C entries; weight/bias may be null (1 and 0).
#include <cstdint>

namespace pmsdsen::cpu {

// Training statistics: mean and invstd = 1/sqrt(biased var + eps), computed piecewise
// (two passes within a piece, pieces merged exactly in double: deterministic). When
// running_mean/var are given they are updated with momentum and the unbiased variance.
// Also writes the folded affine transform scale = w*invstd, shift = b - mean*scale.
// Needs N*S > 1.
template <class T>
void batch_norm_train_stats(const T* x, int64_t N, int64_t C, int64_t S, const T* weight,
                            const T* bias, T* running_mean, T* running_var, double momentum,
                            double eps, T* mean, T* invstd, T* scale, T* shift);

// Evaluation: mean = running_mean, invstd = 1/sqrt(running_var + eps), scale, shift.
template <class T>
void batch_norm_eval_params(const T* running_mean, const T* running_var, const T* weight,
                            const T* bias, int64_t C, double eps, T* mean, T* invstd, T* scale,
                            T* shift);

// y = x * scale[c] + shift[c]
template <class T>
void batch_norm_apply(const T* x, const T* scale, const T* shift, T* y, int64_t N, int64_t C,
                      int64_t S);

// Backward given the mean/invstd the forward normalised with. training: the batch
// statistics depend on x (full formula); otherwise they are constants. gweight, gbias
// and gx may each be null when not needed.
template <class T>
void batch_norm_backward(const T* gy, const T* x, const T* mean, const T* invstd, const T* weight,
                         int64_t N, int64_t C, int64_t S, bool training, T* gx, T* gweight,
                         T* gbias);

}  // namespace pmsdsen::cpu
