#include "core/cpu/activation.h"

#include <algorithm>
#include <vector>

#include "core/activation_math.h"
#include "core/cpu/channel_chunks.h"
#include "core/cpu/vec_math.h"
#include "core/cpu/grain.h"
#include "core/parallel.h"

namespace pmsdsen::cpu {

namespace {
constexpr int64_t kGrain = 1 << 14;

// f(i) for i in [0, n), in chunks spread over threads; f inlines into the inner loop.
template <class F>
void elementwise(int64_t n, F&& f) {
  const int64_t chunks = (n + kGrain - 1) / kGrain;
  parallel_for(0, chunks, [&](int64_t c) {
    const int64_t hi = std::min(n, (c + 1) * kGrain);
    for (int64_t i = c * kGrain; i < hi; ++i) f(i);
  });
}
}  // namespace

template <class T>
void gelu_forward(const T* x, T* y, int64_t n) {
  elementwise(n, [=](int64_t i) { y[i] = hd::gelu<T, CpuMath>(x[i]); });
}

template <class T>
void gelu_backward(const T* gy, const T* x, T* gx, int64_t n) {
  elementwise(n, [=](int64_t i) { gx[i] = gy[i] * hd::gelu_grad<T, CpuMath>(x[i]); });
}

template <class T>
void leaky_relu_forward(const T* x, T slope, T* y, int64_t n) {
  elementwise(n, [=](int64_t i) { y[i] = hd::leaky(x[i], slope); });
}

template <class T>
void leaky_relu_backward(const T* gy, const T* x, T slope, T* gx, int64_t n) {
  elementwise(n, [=](int64_t i) { gx[i] = gy[i] * hd::leaky_grad(x[i], slope); });
}

template <class T>
void sigmoid_forward(const T* x, T* y, int64_t n) {
  elementwise(n, [=](int64_t i) { y[i] = hd::sigmoid<T, CpuMath>(x[i]); });
}

template <class T>
void sigmoid_backward(const T* gy, const T* y, T* gx, int64_t n) {
  elementwise(n, [=](int64_t i) { gx[i] = gy[i] * hd::sigmoid_grad_from_output(y[i]); });
}

template <class T>
void prelu_forward(const T* x, const T* slope, int64_t slope_count, T* y, int64_t N, int64_t C,
                   int64_t S) {
  parallel_for(0, N * C, [&](int64_t plane) {
    const T a = slope[slope_count == 1 ? 0 : plane % C];
    const T* xp = x + plane * S;
    T* yp = y + plane * S;
    for (int64_t i = 0; i < S; ++i) yp[i] = hd::leaky(xp[i], a);
  }, grain_for(S));
}

template <class T>
void prelu_backward(const T* gy, const T* x, const T* slope, int64_t slope_count, T* gx,
                    T* gslope, int64_t N, int64_t C, int64_t S) {
  if (gx) {
    parallel_for(0, N * C, [&](int64_t plane) {
      const T a = slope[slope_count == 1 ? 0 : plane % C];
      const T* g = gy + plane * S;
      const T* xp = x + plane * S;
      T* out = gx + plane * S;
      for (int64_t i = 0; i < S; ++i) out[i] = g[i] * hd::leaky_grad(xp[i], a);
    }, grain_for(S));
  }
  if (gslope) {
    const ChannelChunks chunks(N, C, S);
    std::vector<double> partial(chunks.count());
    chunks.for_each([&](int64_t item, int64_t, int64_t offset, int64_t len) {
      const T* g = gy + offset;
      const T* xp = x + offset;
      partial[item] = lane_sum(len, [g, xp](int64_t i) {
        return static_cast<double>(g[i]) * static_cast<double>(hd::prelu_slope_grad(xp[i]));
      });
    });
    double total = 0.0;
    for (int64_t c = 0; c < C; ++c) {
      double acc = 0.0;
      for (int64_t j = 0; j < chunks.per_channel(); ++j) acc += partial[c * chunks.per_channel() + j];
      if (slope_count == 1) total += acc;
      else gslope[c] = static_cast<T>(acc);
    }
    if (slope_count == 1) gslope[0] = static_cast<T>(total);
  }
}

template <class T>
void softmax_groups_forward(const T* x, T* y, int64_t N, int64_t G, int64_t C, int64_t S) {
  const int64_t group_stride = C * S;
  parallel_for(0, N * C, [&](int64_t nc) {
    const int64_t n = nc / C, c = nc % C;
    const T* xp = x + n * G * group_stride + c * S;
    T* yp = y + n * G * group_stride + c * S;
    for (int64_t s = 0; s < S; ++s) {
      T m = xp[s];
      for (int64_t g = 1; g < G; ++g) m = std::max(m, xp[g * group_stride + s]);
      T sum = 0;
      for (int64_t g = 0; g < G; ++g) {
        const T e = cpu_exp(xp[g * group_stride + s] - m);
        yp[g * group_stride + s] = e;
        sum += e;
      }
      const T inv = T(1) / sum;
      for (int64_t g = 0; g < G; ++g) yp[g * group_stride + s] *= inv;
    }
  }, grain_for(S * G * 4));
}

template <class T>
void softmax_groups_backward(const T* gy, const T* y, T* gx, int64_t N, int64_t G, int64_t C,
                             int64_t S) {
  const int64_t group_stride = C * S;
  parallel_for(0, N * C, [&](int64_t nc) {
    const int64_t n = nc / C, c = nc % C;
    const int64_t base = n * G * group_stride + c * S;
    for (int64_t s = 0; s < S; ++s) {
      T dot = 0;
      for (int64_t g = 0; g < G; ++g) dot += y[base + g * group_stride + s] * gy[base + g * group_stride + s];
      for (int64_t g = 0; g < G; ++g) {
        const int64_t i = base + g * group_stride + s;
        gx[i] = y[i] * (gy[i] - dot);
      }
    }
  }, grain_for(S * G * 2));
}

template <class T>
void epilogue(const T* x, T* y, int64_t N, int64_t C, int64_t S, const Epilogue<T>& e) {
  parallel_for(0, N * C, [&](int64_t plane) {
    const hd::EpiPlane<T> p = hd::epilogue_plane(e, plane, C);
    const T* xp = x + plane * S;
    T* yp = y + plane * S;
    if (e.residual) {
      const T* rp = e.residual + plane * S;
      for (int64_t i = 0; i < S; ++i) yp[i] = hd::epilogue_value<T, CpuMath>(p, true, xp[i], rp[i]);
    } else {
      for (int64_t i = 0; i < S; ++i) yp[i] = hd::epilogue_value<T, CpuMath>(p, false, xp[i], T(0));
    }
  }, grain_for(S));
}

#define PMSDSEN_INSTANTIATE(T)                                                                 \
  template void gelu_forward<T>(const T*, T*, int64_t);                                        \
  template void gelu_backward<T>(const T*, const T*, T*, int64_t);                             \
  template void leaky_relu_forward<T>(const T*, T, T*, int64_t);                               \
  template void leaky_relu_backward<T>(const T*, const T*, T, T*, int64_t);                    \
  template void sigmoid_forward<T>(const T*, T*, int64_t);                                     \
  template void sigmoid_backward<T>(const T*, const T*, T*, int64_t);                          \
  template void prelu_forward<T>(const T*, const T*, int64_t, T*, int64_t, int64_t, int64_t);  \
  template void prelu_backward<T>(const T*, const T*, const T*, int64_t, T*, T*, int64_t,      \
                                  int64_t, int64_t);                                           \
  template void softmax_groups_forward<T>(const T*, T*, int64_t, int64_t, int64_t, int64_t);   \
  template void softmax_groups_backward<T>(const T*, const T*, T*, int64_t, int64_t, int64_t,  \
                                           int64_t);                                           \
  template void epilogue<T>(const T*, T*, int64_t, int64_t, int64_t, const Epilogue<T>&);
PMSDSEN_INSTANTIATE(float)
PMSDSEN_INSTANTIATE(double)
#undef PMSDSEN_INSTANTIATE

}  // namespace pmsdsen::cpu
