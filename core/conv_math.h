#pragma once
// Convolution geometry shared by the CPU and CUDA kernels: sizes, which input pixel a
// kernel tap reads, and the col2im gather (which column entries land on one pixel).
// Plain C++ (no CUDA headers), so the CUDA launchers' headers can use ConvShape too.
#include <cstdint>

#include "core/hd.h"

namespace pmsdsen {

// Output size of a convolution along one axis (PyTorch's formula, rounded down).
PMSDSEN_HD int64_t conv_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding,
                                 int64_t dilation) {
  return (in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;
}

// One 2-D convolution y = conv(x, w) + b, as PyTorch's Conv2d:
//   y[n, co, oy, ox] = b[co] + sum_{ci, ky, kx} w[co, ci, ky, kx]
//                      * x[n, g*cin_g + ci, oy*stride - padding + ky*dilation, (same for x)]
// with g = co / cout_g, zero outside x. A transposed convolution is described by the
// convolution it is the input-gradient of (in_* = its output, out_* = its input).
struct ConvShape {
  int64_t batch = 1;
  int64_t in_channels = 1, in_h = 1, in_w = 1;
  int64_t out_channels = 1, out_h = 1, out_w = 1;
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride = 1, padding = 0, dilation = 1, groups = 1;

  PMSDSEN_HD int64_t cin_g() const { return in_channels / groups; }
  PMSDSEN_HD int64_t cout_g() const { return out_channels / groups; }
  PMSDSEN_HD int64_t taps() const { return kernel_h * kernel_w; }
  PMSDSEN_HD int64_t in_plane() const { return in_h * in_w; }
  PMSDSEN_HD int64_t out_plane() const { return out_h * out_w; }
  // Rows of one group's column matrix (cin_g * kh * kw); its columns are out_plane().
  PMSDSEN_HD int64_t col_rows() const { return cin_g() * taps(); }
  PMSDSEN_HD int64_t weight_numel() const { return out_channels * col_rows(); }
  PMSDSEN_HD bool is_pointwise() const {
    return kernel_h == 1 && kernel_w == 1 && stride == 1 && padding == 0;
  }
  PMSDSEN_HD bool is_depthwise() const {
    return groups == in_channels && groups == out_channels;
  }
  // The depthwise fast path: 3x3, one filter per channel, stride 1 (any padding/dilation).
  PMSDSEN_HD bool is_depthwise3x3() const {
    return is_depthwise() && kernel_h == 3 && kernel_w == 3 && stride == 1;
  }
};

// Where a convolution reads and writes when its input, an optional addend and its output
// are channel windows of larger NCHW tensors (inference: no concatenation or slice is
// copied). Sample n, channel c of the input is plane n * x_total + x_first + c of x; of the
// addend (summed into the input, when not null) plane n * a_total + a_first + c; of the
// output plane n * y_total + y_first + c of y. With x_scale, input channel c of sample n
// is multiplied by x_scale[n * in_channels + c] as it is read (a per-sample channel scale:
// ECA's, applied by the convolution after it), before the addend is summed in.
template <class T>
struct ConvWindows {
  int64_t x_total = 0, x_first = 0;
  const T* x_scale = nullptr;
  const T* addend = nullptr;
  int64_t a_total = 0, a_first = 0;
  int64_t y_total = 0, y_first = 0;
};

// Input coordinate that output coordinate `o` reads through kernel tap `k` (may be outside).
PMSDSEN_HD int64_t conv_in_coord(int64_t o, int64_t k, int64_t stride, int64_t padding,
                                 int64_t dilation) {
  return o * stride - padding + k * dilation;
}

// The output coordinates o in [0, out) whose tap reads inside [0, in) for an offset
// (input = o + shift, stride 1): [first, last) with first <= last, both within [0, out].
struct Range {
  int64_t first, last;
};
PMSDSEN_HD Range valid_outputs(int64_t out, int64_t in, int64_t shift) {
  int64_t first = shift < 0 ? -shift : 0;
  int64_t last = in - shift;
  if (last > out) last = out;
  if (first > out) first = out;
  if (last < first) last = first;
  return {first, last};
}

// col2im as a gather: the sum of every column entry that lands on input pixel (c, iy, ix)
// of one sample and group, col being [cin_g*kh*kw, out_h*out_w]. Fixed tap order, so the
// result does not depend on scheduling (no atomics on the GPU).
template <class T>
PMSDSEN_HD T col2im_pixel(const ConvShape& s, const T* col, int64_t c, int64_t iy, int64_t ix) {
  T acc = T(0);
  const int64_t plane = s.out_plane();
  for (int64_t ky = 0; ky < s.kernel_h; ++ky) {
    const int64_t ny = iy + s.padding - ky * s.dilation;  // = oy * stride
    if (ny < 0 || ny % s.stride != 0) continue;
    const int64_t oy = ny / s.stride;
    if (oy >= s.out_h) continue;
    for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
      const int64_t nx = ix + s.padding - kx * s.dilation;
      if (nx < 0 || nx % s.stride != 0) continue;
      const int64_t ox = nx / s.stride;
      if (ox >= s.out_w) continue;
      acc += col[((c * s.kernel_h + ky) * s.kernel_w + kx) * plane + oy * s.out_w + ox];
    }
  }
  return acc;
}

// ECA's channel convolution: y[n, c] = sum_t w[t] * x[n, c - pad + t], pad = (k - 1) / 2.
template <class T>
PMSDSEN_HD T channel_conv_at(const T* x, const T* w, int64_t channels, int64_t k, int64_t c) {
  const int64_t pad = (k - 1) / 2;
  T acc = T(0);
  for (int64_t t = 0; t < k; ++t) {
    const int64_t src = c - pad + t;
    if (src >= 0 && src < channels) acc += w[t] * x[src];
  }
  return acc;
}
// Its input gradient: gx[n, c] = sum_t w[t] * gy[n, c + pad - t].
template <class T>
PMSDSEN_HD T channel_conv_grad_input_at(const T* gy, const T* w, int64_t channels, int64_t k,
                                        int64_t c) {
  const int64_t pad = (k - 1) / 2;
  T acc = T(0);
  for (int64_t t = 0; t < k; ++t) {
    const int64_t dst = c + pad - t;
    if (dst >= 0 && dst < channels) acc += w[t] * gy[dst];
  }
  return acc;
}

}  // namespace pmsdsen
