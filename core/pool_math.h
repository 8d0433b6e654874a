#pragma once
// Floor-mode 2-D pooling as PyTorch computes it, shared by the CPU and CUDA kernels: the
// window geometry along one axis, and each output's (or input gradient's) value. The
// backends differ only in how they walk the positions. Indices are within one plane.
#include <cmath>
#include <cstdint>

#include "core/hd.h"
#include "core/scalar_math.h"

namespace pmsdsen::hd {

// Average pooling (count_include_pad=True): the window of output o clipped to the input,
// [start, end), and the divisor's factor along this axis: the window length clipped to
// the padded input, min(o*s - p + k, in + p) - (o*s - p).
PMSDSEN_HD void avg_pool_window(int o, int k, int s, int p, int in, int& start, int& end,
                                int& divisor) {
  int lo = o * s - p;
  int hi = lo + k < in + p ? lo + k : in + p;
  divisor = hi - lo;
  start = lo > 0 ? lo : 0;
  end = hi < in ? hi : in;
}

// Max pooling: the window clipped to the input.
PMSDSEN_HD void max_pool_window(int o, int k, int s, int p, int in, int& start, int& end) {
  const int lo = o * s - p;
  const int hi = lo + k;
  start = lo > 0 ? lo : 0;
  end = hi < in ? hi : in;
}

// The outputs [first, last) whose (unclipped) window o*s - p .. o*s - p + k - 1 contains
// input index i, for the gather-form backward.
PMSDSEN_HD void pool_windows_containing(int i, int k, int s, int p, int out, int& first, int& last) {
  const int a = i + p - k + 1;  // o*s >= a
  first = a <= 0 ? 0 : (a + s - 1) / s;
  last = (i + p) / s + 1;  // o*s <= i + p
  if (last > out) last = out;
  if (first > last) first = last;
}

// One output of average pooling: the sum over the clipped window [h0, h1) x [w0, w1) of
// `plane` (row length W), divided by the window's divisor.
template <class T>
PMSDSEN_HD T avg_pool_at(const T* plane, int W, int h0, int h1, int w0, int w1, int divisor) {
  T acc = 0;
  for (int h = h0; h < h1; ++h)
    for (int w = w0; w < w1; ++w) acc += plane[h * W + w];
  return acc / static_cast<T>(divisor);
}

// One output of max pooling: the window's maximum (the first one; a NaN wins) and its
// index in the plane.
template <class T>
PMSDSEN_HD T max_pool_at(const T* plane, int W, int h0, int h1, int w0, int w1, int32_t& index) {
  T m = -static_cast<T>(INFINITY);
  int best = h0 * W + w0;
  for (int h = h0; h < h1; ++h)
    for (int w = w0; w < w1; ++w) {
      const T v = plane[h * W + w];
      if (v > m || isnan_(v)) {
        m = v;
        best = h * W + w;
      }
    }
  index = best;
  return m;
}

// The gradient of average pooling at input (h, w) of a plane: gy of every window that
// contains it, each over its divisor (gather form: no atomics, a fixed order).
template <class T>
PMSDSEN_HD T avg_pool_grad_at(const T* gy, int h, int w, int H, int W, int OH, int OW, int k, int s, int p) {
  int oh0, oh1, ow0, ow1;
  pool_windows_containing(h, k, s, p, OH, oh0, oh1);
  pool_windows_containing(w, k, s, p, OW, ow0, ow1);
  T acc = 0;
  for (int oh = oh0; oh < oh1; ++oh) {
    int a, b, dh;
    avg_pool_window(oh, k, s, p, H, a, b, dh);
    for (int ow = ow0; ow < ow1; ++ow) {
      int c, d, dw;
      avg_pool_window(ow, k, s, p, W, c, d, dw);
      acc += gy[oh * OW + ow] / static_cast<T>(dh * dw);
    }
  }
  return acc;
}

// The gradient of max pooling at input (h, w): gy of every window whose maximum it was.
template <class T>
PMSDSEN_HD T max_pool_grad_at(const T* gy, const int32_t* index, int h, int w, int W, int OH, int OW, int k, int s,
                              int p) {
  int oh0, oh1, ow0, ow1;
  pool_windows_containing(h, k, s, p, OH, oh0, oh1);
  pool_windows_containing(w, k, s, p, OW, ow0, ow1);
  const int self = h * W + w;
  T acc = 0;
  for (int oh = oh0; oh < oh1; ++oh)
    for (int ow = ow0; ow < ow1; ++ow)
      if (index[oh * OW + ow] == self) acc += gy[oh * OW + ow];
  return acc;
}

}  // namespace pmsdsen::hd
