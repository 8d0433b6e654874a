#include "core/cpu/loss.h"

#include <algorithm>
#include <atomic>
#include <vector>

#include "core/cpu/grain.h"
#include "core/cpu/vec_math.h"
#include "core/parallel.h"
#include "core/scalar_math.h"

namespace pmsdsen::cpu {

namespace {
constexpr int64_t kBlock = 512;  // pixels per task; the inner loops run over a block

// A pixel counts when its target is a class index other than ignore_index.
inline bool counted(int64_t t, int64_t K, int64_t ignore_index) {
  return t != ignore_index && t >= 0 && t < K;
}

// f(n, s0, s1) over blocks of pixels of each sample.
template <class F>
void pixel_blocks(int64_t N, int64_t K, int64_t S, F&& f) {
  const int64_t blocks = (S + kBlock - 1) / kBlock;
  parallel_for(0, N * blocks, [&](int64_t task) {
    const int64_t n = task / blocks, b = task % blocks;
    f(n, b * kBlock, std::min(S, (b + 1) * kBlock));
  }, grain_for(kBlock * K));
}
}  // namespace

int64_t bad_targets(const int64_t* target, int64_t pixels, int64_t K, int64_t ignore_index) {
  int64_t bad = 0;
  for (int64_t i = 0; i < pixels; ++i) bad += !counted(target[i], K, ignore_index) && target[i] != ignore_index;
  return bad;
}

template <class T>
int64_t cross_entropy_pixels(const T* x, const int64_t* target, int64_t N, int64_t K, int64_t S,
                             int64_t ignore_index, T* lse, T* nll, T* prob) {
  std::atomic<int64_t> bad{0};
  pixel_blocks(N, K, S, [&](int64_t n, int64_t s0, int64_t s1) {
    const int64_t len = s1 - s0;
    T m[kBlock], sum[kBlock];
    const T* xn = x + n * K * S + s0;
    for (int64_t i = 0; i < len; ++i) m[i] = xn[i];
    for (int64_t k = 1; k < K; ++k)
      for (int64_t i = 0; i < len; ++i) m[i] = std::max(m[i], xn[k * S + i]);
    for (int64_t i = 0; i < len; ++i) sum[i] = 0;
    for (int64_t k = 0; k < K; ++k)
      for (int64_t i = 0; i < len; ++i) sum[i] += cpu_exp(xn[k * S + i] - m[i]);
    int64_t local_bad = 0;
    for (int64_t i = 0; i < len; ++i) {
      const int64_t p = n * S + s0 + i;
      const T log_sum = hd::log_(sum[i]);
      lse[p] = m[i] + log_sum;
      const int64_t t = target[p];
      const bool valid = counted(t, K, ignore_index);
      if (!valid && t != ignore_index) ++local_bad;
      // As log_softmax: x_t - max - log(sum).
      nll[p] = valid ? -((xn[t * S + i] - m[i]) - log_sum) : T(0);
      if (prob) prob[p] = valid ? cpu_exp(xn[t * S + i] - m[i]) / sum[i] : T(1);
    }
    if (local_bad) bad += local_bad;
  });
  return bad.load();
}

template <class T>
T ohem_threshold(const T* prob, const int64_t* target, int64_t pixels, int64_t K,
                 int64_t ignore_index, int64_t min_kept, double thresh) {
  std::vector<T> valid;
  valid.reserve(static_cast<size_t>(pixels));
  for (int64_t i = 0; i < pixels; ++i)
    if (counted(target[i], K, ignore_index)) valid.push_back(prob[i]);
  if (valid.empty()) return static_cast<T>(thresh);
  const int64_t k = std::min<int64_t>(min_kept, static_cast<int64_t>(valid.size()) - 1);
  std::nth_element(valid.begin(), valid.begin() + k, valid.end());
  return std::max(valid[k], static_cast<T>(thresh));
}

template <class T>
void cross_entropy_select(const int64_t* target, const T* nll, const T* prob, const T* weight,
                          int64_t pixels, int64_t K, int64_t ignore_index, bool ohem, T threshold,
                          T* coef, double* num, double* den) {
  constexpr int64_t kChunk = 1 << 14;
  const int64_t chunks = (pixels + kChunk - 1) / kChunk;
  std::vector<double> pn(chunks), pd(chunks);
  parallel_for(0, chunks, [&](int64_t c) {
    double a = 0.0, b = 0.0;
    const int64_t hi = std::min(pixels, (c + 1) * kChunk);
    for (int64_t i = c * kChunk; i < hi; ++i) {
      const int64_t t = target[i];
      const bool keep = counted(t, K, ignore_index) && (!ohem || prob[i] < threshold);
      const T w = keep ? (weight ? weight[t] : T(1)) : T(0);
      coef[i] = w;
      a += static_cast<double>(w) * nll[i];
      b += ohem ? (keep ? 1.0 : 0.0) : static_cast<double>(w);
    }
    pn[c] = a;
    pd[c] = b;
  }, grain_for(kChunk));
  double a = 0.0, b = 0.0;
  for (int64_t c = 0; c < chunks; ++c) {
    a += pn[c];
    b += pd[c];
  }
  *num = a;
  *den = b;
}

template <class T>
void cross_entropy_backward(const T* x, const int64_t* target, const T* lse, const T* coef,
                            T scale, T* gx, int64_t N, int64_t K, int64_t S) {
  pixel_blocks(N, K, S, [&](int64_t n, int64_t s0, int64_t s1) {
    const int64_t len = s1 - s0;
    const int64_t p0 = n * S + s0;
    T cs[kBlock];  // scale * coef per pixel
    for (int64_t i = 0; i < len; ++i) cs[i] = scale * coef[p0 + i];
    const T* l = lse + p0;
    for (int64_t k = 0; k < K; ++k) {
      const T* xr = x + (n * K + k) * S + s0;
      T* gr = gx + (n * K + k) * S + s0;
      for (int64_t i = 0; i < len; ++i) gr[i] = cs[i] * cpu_exp(xr[i] - l[i]);
    }
    // The target's one-hot term; pixels with coef 0 (ignored, or dropped by OHEM) stay 0.
    for (int64_t i = 0; i < len; ++i) {
      const int64_t t = target[p0 + i];
      if (cs[i] != T(0)) gx[(n * K + t) * S + s0 + i] -= cs[i];
    }
  });
}

#define PMSDSEN_INSTANTIATE(T)                                                                  \
  template int64_t cross_entropy_pixels<T>(const T*, const int64_t*, int64_t, int64_t, int64_t, \
                                           int64_t, T*, T*, T*);                                \
  template T ohem_threshold<T>(const T*, const int64_t*, int64_t, int64_t, int64_t, int64_t,    \
                               double);                                                         \
  template void cross_entropy_select<T>(const int64_t*, const T*, const T*, const T*, int64_t,  \
                                        int64_t, int64_t, bool, T, T*, double*, double*);       \
  template void cross_entropy_backward<T>(const T*, const int64_t*, const T*, const T*, T, T*,  \
                                          int64_t, int64_t, int64_t);
PMSDSEN_INSTANTIATE(float)
PMSDSEN_INSTANTIATE(double)
#undef PMSDSEN_INSTANTIATE

}  // namespace pmsdsen::cpu
