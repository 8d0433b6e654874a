#pragma once
// CPU kernels of the softmax cross-entropy over logits [N, K, S] (S = H*W) and target
// [N, S] (int64). Float and double.
#include <cstdint>

namespace pmsdsen::cpu {

// Per pixel i: lse[i] = log sum_k exp(x_k); nll[i] = lse - x_target (0 where the target
// is ignore_index or out of range); when prob is given, prob[i] = softmax probability
// of the target class (1 where ignored). Returns how many targets are neither
// ignore_index nor in [0, K).
template <class T>
int64_t cross_entropy_pixels(const T* x, const int64_t* target, int64_t N, int64_t K, int64_t S,
                             int64_t ignore_index, T* lse, T* nll, T* prob);

// The authors' OHEM threshold: with the target probabilities of the counted pixels
// sorted ascending, max(sorted[min(min_kept, n_valid - 1)], thresh); thresh when no
// pixel counts.
template <class T>
T ohem_threshold(const T* prob, const int64_t* target, int64_t pixels, int64_t K,
                 int64_t ignore_index, int64_t min_kept, double thresh);

// coef[i] = weight[target] (1 without weights) for the pixels that count: target in
// [0, K) and, with ohem, prob < threshold; 0 elsewhere. Returns through num and den the
// loss numerator sum coef * nll and denominator: sum coef, or with ohem the number of
// kept pixels (the authors take a plain mean). Sums in double, in a fixed order.
template <class T>
void cross_entropy_select(const int64_t* target, const T* nll, const T* prob, const T* weight,
                          int64_t pixels, int64_t K, int64_t ignore_index, bool ohem, T threshold,
                          T* coef, double* num, double* den);

// How many targets are neither ignore_index nor a class index in [0, K).
int64_t bad_targets(const int64_t* target, int64_t pixels, int64_t K, int64_t ignore_index);

// gx[n, k, s] = scale * coef[n, s] * (softmax_k - [k == target]); 0 where coef is 0.
template <class T>
void cross_entropy_backward(const T* x, const int64_t* target, const T* lse, const T* coef,
                            T scale, T* gx, int64_t N, int64_t K, int64_t S);

}  // namespace pmsdsen::cpu
