#include "core/cpu/basic.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/parallel.h"

namespace pmsdsen::cpu {

namespace {
constexpr int64_t kGrain = 1 << 15;  // elements per parallel chunk of elementwise loops

// f(begin, end) over [0, n) in chunks of kGrain, chunks spread over threads.
// Planes per parallel task, so that a task holds at least about kGrain elements.
int64_t plane_grain(int64_t plane_size) { return std::max<int64_t>(1, kGrain / std::max<int64_t>(1, plane_size)); }

template <class F>
void parallel_chunks(int64_t n, F&& f) {
  const int64_t chunks = (n + kGrain - 1) / kGrain;
  parallel_for(0, chunks, [&](int64_t c) { f(c * kGrain, std::min(n, (c + 1) * kGrain)); });
}
}  // namespace

template <class T>
void axpby(T alpha, const T* a, T beta, const T* b, T* y, int64_t n) {
  parallel_chunks(n, [&](int64_t lo, int64_t hi) {
    if (beta == T(0) || b == nullptr) {
      for (int64_t i = lo; i < hi; ++i) y[i] = alpha * a[i];
    } else if (alpha == T(1) && beta == T(1)) {
      for (int64_t i = lo; i < hi; ++i) y[i] = a[i] + b[i];
    } else {
      for (int64_t i = lo; i < hi; ++i) y[i] = alpha * a[i] + beta * b[i];
    }
  });
}

template <class T>
void mul(const T* a, const T* b, T* y, int64_t n) {
  parallel_chunks(n, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) y[i] = a[i] * b[i];
  });
}

template <class T>
void mul_channel(const T* x, const T* s, T* y, int64_t planes, int64_t plane_size) {
  parallel_for(0, planes, [&](int64_t p) {
    const T sp = s[p];
    const T* xp = x + p * plane_size;
    T* yp = y + p * plane_size;
    for (int64_t i = 0; i < plane_size; ++i) yp[i] = xp[i] * sp;
  }, plane_grain(plane_size));
}

template <class T>
void dot_planes(const T* g, const T* x, T* gs, int64_t planes, int64_t plane_size) {
  parallel_for(0, planes, [&](int64_t p) {
    const T* gp = g + p * plane_size;
    const T* xp = x + p * plane_size;
    double acc = 0.0;
    for (int64_t i = 0; i < plane_size; ++i) acc += static_cast<double>(gp[i]) * xp[i];
    gs[p] = static_cast<T>(acc);
  }, plane_grain(plane_size));
}

template <class T>
T sum(const T* x, int64_t n) {
  const int64_t chunks = (n + kGrain - 1) / kGrain;
  std::vector<double> partial(static_cast<size_t>(chunks), 0.0);
  parallel_for(0, chunks, [&](int64_t c) {
    double acc = 0.0;
    const int64_t hi = std::min(n, (c + 1) * kGrain);
    for (int64_t i = c * kGrain; i < hi; ++i) acc += x[i];
    partial[c] = acc;
  }, 2);
  double total = 0.0;
  for (double p : partial) total += p;
  return static_cast<T>(total);
}

template <class T>
void fill(T* y, T value, int64_t n) {
  parallel_chunks(n, [&](int64_t lo, int64_t hi) { std::fill(y + lo, y + hi, value); });
}

template <class T>
void broadcast_scalar(const T* value, T factor, T* y, int64_t n) {
  fill(y, static_cast<T>(factor * value[0]), n);
}

void copy_channels(const void* src, int64_t src_channels, int64_t src_first, void* dst,
                   int64_t dst_channels, int64_t dst_first, int64_t channels, int64_t batch,
                   int64_t plane_bytes) {
  const size_t block = static_cast<size_t>(channels * plane_bytes);
  parallel_for(0, batch, [&](int64_t n) {
    const char* s = static_cast<const char*>(src) + (n * src_channels + src_first) * plane_bytes;
    char* d = static_cast<char*>(dst) + (n * dst_channels + dst_first) * plane_bytes;
    std::memcpy(d, s, block);
  }, plane_grain(static_cast<int64_t>(block) / 4));
}

#define PMSDSEN_INSTANTIATE(T)                                                                \
  template void axpby<T>(T, const T*, T, const T*, T*, int64_t);                              \
  template void mul<T>(const T*, const T*, T*, int64_t);                                      \
  template void mul_channel<T>(const T*, const T*, T*, int64_t, int64_t);                     \
  template void dot_planes<T>(const T*, const T*, T*, int64_t, int64_t);                      \
  template T sum<T>(const T*, int64_t);                                                       \
  template void fill<T>(T*, T, int64_t);                                                      \
  template void broadcast_scalar<T>(const T*, T, T*, int64_t);
PMSDSEN_INSTANTIATE(float)
PMSDSEN_INSTANTIATE(double)
#undef PMSDSEN_INSTANTIATE

}  // namespace pmsdsen::cpu
