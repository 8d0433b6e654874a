#include "core/cpu/norm.h"

#include <cmath>
#include <vector>

#include "core/cpu/channel_chunks.h"
#include "core/cpu/grain.h"
#include "core/parallel.h"

namespace pmsdsen::cpu {

template <class T>
void batch_norm_train_stats(const T* x, int64_t N, int64_t C, int64_t S, const T* weight,
                            const T* bias, T* running_mean, T* running_var, double momentum,
                            double eps, T* mean, T* invstd, T* scale, T* shift) {
  const ChannelChunks chunks(N, C, S);
  // Per piece: its mean and its sum of squared deviations from that mean.
  std::vector<double> piece_mean(chunks.count()), piece_m2(chunks.count());
  chunks.for_each([&](int64_t item, int64_t, int64_t offset, int64_t len) {
    const T* p = x + offset;
    const double m = lane_sum(len, [p](int64_t i) { return static_cast<double>(p[i]); }) / static_cast<double>(len);
    const double m2 = lane_sum(len, [p, m](int64_t i) {
      const double d = static_cast<double>(p[i]) - m;
      return d * d;
    });
    piece_mean[item] = m;
    piece_m2[item] = m2;
  });
  const int64_t M = N * S;
  for (int64_t c = 0; c < C; ++c) {
    const int64_t first = c * chunks.per_channel();
    double sum = 0.0;
    for (int64_t j = 0; j < chunks.per_channel(); ++j) {
      const int64_t len = std::min(ChannelChunks::kPiece, S - (j % chunks.pieces) * ChannelChunks::kPiece);
      sum += piece_mean[first + j] * static_cast<double>(len);
    }
    const double mu = sum / static_cast<double>(M);
    double m2 = 0.0;
    for (int64_t j = 0; j < chunks.per_channel(); ++j) {
      const int64_t len = std::min(ChannelChunks::kPiece, S - (j % chunks.pieces) * ChannelChunks::kPiece);
      const double d = piece_mean[first + j] - mu;
      m2 += piece_m2[first + j] + d * d * static_cast<double>(len);
    }
    const double var = m2 / static_cast<double>(M);
    const double is = 1.0 / std::sqrt(var + eps);
    mean[c] = static_cast<T>(mu);
    invstd[c] = static_cast<T>(is);
    const double sc = (weight ? static_cast<double>(weight[c]) : 1.0) * is;
    scale[c] = static_cast<T>(sc);
    shift[c] = static_cast<T>((bias ? static_cast<double>(bias[c]) : 0.0) - mu * sc);
    if (running_mean)
      running_mean[c] = static_cast<T>((1.0 - momentum) * running_mean[c] + momentum * mu);
    if (running_var)
      running_var[c] = static_cast<T>((1.0 - momentum) * running_var[c] +
                                      momentum * m2 / static_cast<double>(M - 1));
  }
}

template <class T>
void batch_norm_eval_params(const T* running_mean, const T* running_var, const T* weight,
                            const T* bias, int64_t C, double eps, T* mean, T* invstd, T* scale,
                            T* shift) {
  for (int64_t c = 0; c < C; ++c) {
    const double mu = running_mean[c];
    const double is = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps);
    const double sc = (weight ? static_cast<double>(weight[c]) : 1.0) * is;
    mean[c] = static_cast<T>(mu);
    invstd[c] = static_cast<T>(is);
    scale[c] = static_cast<T>(sc);
    shift[c] = static_cast<T>((bias ? static_cast<double>(bias[c]) : 0.0) - mu * sc);
  }
}

template <class T>
void batch_norm_apply(const T* x, const T* scale, const T* shift, T* y, int64_t N, int64_t C,
                      int64_t S) {
  parallel_for(0, N * C, [&](int64_t plane) {
    const int64_t c = plane % C;
    const T a = scale[c], b = shift[c];
    const T* xp = x + plane * S;
    T* yp = y + plane * S;
    for (int64_t i = 0; i < S; ++i) yp[i] = xp[i] * a + b;
  }, grain_for(S));
}

template <class T>
void batch_norm_backward(const T* gy, const T* x, const T* mean, const T* invstd, const T* weight,
                         int64_t N, int64_t C, int64_t S, bool training, T* gx, T* gweight,
                         T* gbias) {
  const bool need_sums = training || gweight || gbias;
  std::vector<double> sum_gy(C, 0.0), sum_gy_xc(C, 0.0);  // sum gy, sum gy (x - mean)
  if (need_sums) {
    const ChannelChunks chunks(N, C, S);
    std::vector<double> p0(chunks.count()), p1(chunks.count());
    chunks.for_each([&](int64_t item, int64_t c, int64_t offset, int64_t len) {
      const T* g = gy + offset;
      const T* xp = x + offset;
      const T mu = mean[c];
      const double s0 = lane_sum(len, [g](int64_t i) { return static_cast<double>(g[i]); });
      const double s1 = lane_sum(len, [g, xp, mu](int64_t i) {
        return static_cast<double>(g[i]) * static_cast<double>(xp[i] - mu);
      });
      p0[item] = s0;
      p1[item] = s1;
    });
    for (int64_t c = 0; c < C; ++c) {
      double s0 = 0.0, s1 = 0.0;
      for (int64_t j = 0; j < chunks.per_channel(); ++j) {
        s0 += p0[c * chunks.per_channel() + j];
        s1 += p1[c * chunks.per_channel() + j];
      }
      sum_gy[c] = s0;
      sum_gy_xc[c] = s1;
      if (gbias) gbias[c] = static_cast<T>(s0);
      if (gweight) gweight[c] = static_cast<T>(s1 * static_cast<double>(invstd[c]));
    }
  }
  if (!gx) return;
  // gx = A gy + B (x - mean) + K per channel.
  std::vector<T> A(C), B(C), K(C);
  const double M = static_cast<double>(N * S);
  for (int64_t c = 0; c < C; ++c) {
    const double is = invstd[c];
    const double a = (weight ? static_cast<double>(weight[c]) : 1.0) * is;
    A[c] = static_cast<T>(a);
    B[c] = static_cast<T>(training ? -a * is * is * sum_gy_xc[c] / M : 0.0);
    K[c] = static_cast<T>(training ? -a * sum_gy[c] / M : 0.0);
  }
  parallel_for(0, N * C, [&](int64_t plane) {
    const int64_t c = plane % C;
    const T a = A[c], b = B[c], k = K[c], mu = mean[c];
    const T* g = gy + plane * S;
    const T* xp = x + plane * S;
    T* out = gx + plane * S;
    for (int64_t i = 0; i < S; ++i) out[i] = a * g[i] + b * (xp[i] - mu) + k;
  }, grain_for(S));
}

#define PMSDSEN_INSTANTIATE(T)                                                                  \
  template void batch_norm_train_stats<T>(const T*, int64_t, int64_t, int64_t, const T*,        \
                                          const T*, T*, T*, double, double, T*, T*, T*, T*);     \
  template void batch_norm_eval_params<T>(const T*, const T*, const T*, const T*, int64_t,      \
                                          double, T*, T*, T*, T*);                              \
  template void batch_norm_apply<T>(const T*, const T*, const T*, T*, int64_t, int64_t,         \
                                    int64_t);                                                   \
  template void batch_norm_backward<T>(const T*, const T*, const T*, const T*, const T*,        \
                                       int64_t, int64_t, int64_t, bool, T*, T*, T*);
PMSDSEN_INSTANTIATE(float)
PMSDSEN_INSTANTIATE(double)
#undef PMSDSEN_INSTANTIATE

}  // namespace pmsdsen::cpu
