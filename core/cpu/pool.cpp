#include "core/cpu/pool.h"

#include <limits>

#include "core/cpu/channel_chunks.h"
#include "core/cpu/grain.h"
#include "core/parallel.h"
#include "core/pool_math.h"
#include "core/scalar_math.h"

namespace pmsdsen::cpu {

template <class T>
void avg_pool2d_forward(const T* x, T* y, int64_t planes, int H, int W, int OH, int OW, int k,
                        int s, int p) {
  parallel_for(0, planes * OH, [&](int64_t row) {
    const int64_t plane = row / OH;
    const int oh = static_cast<int>(row % OH);
    const T* xp = x + plane * H * W;
    T* yp = y + row * OW;
    int h0, h1, dh;
    hd::avg_pool_window(oh, k, s, p, H, h0, h1, dh);
    for (int ow = 0; ow < OW; ++ow) {
      int w0, w1, dw;
      hd::avg_pool_window(ow, k, s, p, W, w0, w1, dw);
      T acc = 0;
      for (int h = h0; h < h1; ++h)
        for (int w = w0; w < w1; ++w) acc += xp[h * W + w];
      yp[ow] = acc / static_cast<T>(dh * dw);
    }
  }, grain_for(int64_t(OW) * k * k));
}

template <class T>
void avg_pool2d_backward(const T* gy, T* gx, int64_t planes, int H, int W, int OH, int OW, int k,
                         int s, int p) {
  parallel_for(0, planes * H, [&](int64_t row) {
    const int64_t plane = row / H;
    const int h = static_cast<int>(row % H);
    const T* g = gy + plane * OH * OW;
    T* out = gx + row * W;
    int oh0, oh1;
    hd::pool_windows_containing(h, k, s, p, OH, oh0, oh1);
    for (int w = 0; w < W; ++w) {
      int ow0, ow1;
      hd::pool_windows_containing(w, k, s, p, OW, ow0, ow1);
      T acc = 0;
      for (int oh = oh0; oh < oh1; ++oh) {
        int a, b, dh;
        hd::avg_pool_window(oh, k, s, p, H, a, b, dh);
        for (int ow = ow0; ow < ow1; ++ow) {
          int c, d, dw;
          hd::avg_pool_window(ow, k, s, p, W, c, d, dw);
          acc += g[oh * OW + ow] / static_cast<T>(dh * dw);
        }
      }
      out[w] = acc;
    }
  }, grain_for(int64_t(W) * ((k + s - 1) / s) * ((k + s - 1) / s)));
}

template <class T>
void max_pool2d_forward(const T* x, T* y, int32_t* index, int64_t planes, int H, int W, int OH,
                        int OW, int k, int s, int p) {
  parallel_for(0, planes * OH, [&](int64_t row) {
    const int64_t plane = row / OH;
    const int oh = static_cast<int>(row % OH);
    const T* xp = x + plane * H * W;
    int h0, h1;
    hd::max_pool_window(oh, k, s, p, H, h0, h1);
    for (int ow = 0; ow < OW; ++ow) {
      int w0, w1;
      hd::max_pool_window(ow, k, s, p, W, w0, w1);
      int best = h0 * W + w0;
      T m = -std::numeric_limits<T>::infinity();
      for (int h = h0; h < h1; ++h)
        for (int w = w0; w < w1; ++w) {
          const T v = xp[h * W + w];
          if (v > m || hd::isnan_(v)) {
            m = v;
            best = h * W + w;
          }
        }
      y[row * OW + ow] = m;
      index[row * OW + ow] = best;
    }
  }, grain_for(int64_t(OW) * k * k));
}

template <class T>
void max_pool2d_backward(const T* gy, const int32_t* index, T* gx, int64_t planes, int H, int W,
                         int OH, int OW, int k, int s, int p) {
  parallel_for(0, planes * H, [&](int64_t row) {
    const int64_t plane = row / H;
    const int h = static_cast<int>(row % H);
    const T* g = gy + plane * OH * OW;
    const int32_t* idx = index + plane * OH * OW;
    T* out = gx + row * W;
    int oh0, oh1;
    hd::pool_windows_containing(h, k, s, p, OH, oh0, oh1);
    for (int w = 0; w < W; ++w) {
      int ow0, ow1;
      hd::pool_windows_containing(w, k, s, p, OW, ow0, ow1);
      const int self = h * W + w;
      T acc = 0;
      for (int oh = oh0; oh < oh1; ++oh)
        for (int ow = ow0; ow < ow1; ++ow)
          if (idx[oh * OW + ow] == self) acc += g[oh * OW + ow];
      out[w] = acc;
    }
  }, grain_for(int64_t(W) * ((k + s - 1) / s) * ((k + s - 1) / s)));
}

template <class T>
void global_avg_pool_forward(const T* x, T* y, int64_t planes, int64_t S) {
  parallel_for(0, planes, [&](int64_t plane) {
    const T* xp = x + plane * S;
    const double acc = lane_sum(S, [xp](int64_t i) { return static_cast<double>(xp[i]); });
    y[plane] = static_cast<T>(acc / static_cast<double>(S));
  }, grain_for(S));
}

template <class T>
void global_avg_pool_backward(const T* gy, T* gx, int64_t planes, int64_t S) {
  parallel_for(0, planes, [&](int64_t plane) {
    const T v = gy[plane] / static_cast<T>(S);
    T* out = gx + plane * S;
    for (int64_t i = 0; i < S; ++i) out[i] = v;
  }, grain_for(S));
}

#define PMSDSEN_INSTANTIATE(T)                                                                   \
  template void avg_pool2d_forward<T>(const T*, T*, int64_t, int, int, int, int, int, int, int); \
  template void avg_pool2d_backward<T>(const T*, T*, int64_t, int, int, int, int, int, int, int);\
  template void max_pool2d_forward<T>(const T*, T*, int32_t*, int64_t, int, int, int, int, int,  \
                                      int, int);                                                 \
  template void max_pool2d_backward<T>(const T*, const int32_t*, T*, int64_t, int, int, int,     \
                                       int, int, int, int);                                      \
  template void global_avg_pool_forward<T>(const T*, T*, int64_t, int64_t);                      \
  template void global_avg_pool_backward<T>(const T*, T*, int64_t, int64_t);
PMSDSEN_INSTANTIATE(float)
PMSDSEN_INSTANTIATE(double)
#undef PMSDSEN_INSTANTIATE

}  // namespace pmsdsen::cpu
