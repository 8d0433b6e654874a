#include "core/cpu/pool.h"

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
    const int oh = static_cast<int>(row % OH);
    const T* xp = x + row / OH * H * W;
    int h0, h1, dh;
    hd::avg_pool_window(oh, k, s, p, H, h0, h1, dh);
    for (int ow = 0; ow < OW; ++ow) {
      int w0, w1, dw;
      hd::avg_pool_window(ow, k, s, p, W, w0, w1, dw);
      y[row * OW + ow] = hd::avg_pool_at(xp, W, h0, h1, w0, w1, dh * dw);
    }
  }, grain_for(int64_t(OW) * k * k));
}

template <class T>
void avg_pool2d_backward(const T* gy, T* gx, int64_t planes, int H, int W, int OH, int OW, int k,
                         int s, int p) {
  parallel_for(0, planes * H, [&](int64_t row) {
    const int h = static_cast<int>(row % H);
    const T* g = gy + row / H * OH * OW;
    for (int w = 0; w < W; ++w) gx[row * W + w] = hd::avg_pool_grad_at(g, h, w, H, W, OH, OW, k, s, p);
  }, grain_for(int64_t(W) * ((k + s - 1) / s) * ((k + s - 1) / s)));
}

template <class T>
void max_pool2d_forward(const T* x, T* y, int32_t* index, int64_t planes, int H, int W, int OH,
                        int OW, int k, int s, int p) {
  parallel_for(0, planes * OH, [&](int64_t row) {
    const int oh = static_cast<int>(row % OH);
    const T* xp = x + row / OH * H * W;
    int h0, h1;
    hd::max_pool_window(oh, k, s, p, H, h0, h1);
    for (int ow = 0; ow < OW; ++ow) {
      int w0, w1;
      hd::max_pool_window(ow, k, s, p, W, w0, w1);
      y[row * OW + ow] = hd::max_pool_at(xp, W, h0, h1, w0, w1, index[row * OW + ow]);
    }
  }, grain_for(int64_t(OW) * k * k));
}

template <class T>
void max_pool2d_backward(const T* gy, const int32_t* index, T* gx, int64_t planes, int H, int W,
                         int OH, int OW, int k, int s, int p) {
  parallel_for(0, planes * H, [&](int64_t row) {
    const int h = static_cast<int>(row % H);
    const int64_t plane = row / H;
    const T* g = gy + plane * OH * OW;
    const int32_t* idx = index + plane * OH * OW;
    for (int w = 0; w < W; ++w) gx[row * W + w] = hd::max_pool_grad_at(g, idx, h, w, W, OH, OW, k, s, p);
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
