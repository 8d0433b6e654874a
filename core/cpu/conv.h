#pragma once
// CPU convolution kernels (float and double, contiguous NCHW, raw pointers). The entry
// points take any ConvShape and pick a fast path inside:
//   depthwise 3x3, stride 1      direct loops per plane (conv_depthwise.cpp)
//   everything else              GEMM with im2col fused into the packing of B, so no
//                                column matrix is stored (1x1 stride 1 is a plain product)
// Transposed convolutions are these kernels used the other way round (see ConvShape).
#include <cstdint>

#include "core/conv_math.h"
#include "core/epilogue_math.h"

namespace pmsdsen::cpu {

// y = conv(x, w) + bias (bias may be null). w is [out_channels, cin_g, kh, kw].
template <class T>
void conv2d_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y);
// Inference: y = epilogue(conv(x, w)) (core/epilogue_math.h), the epilogue one pass
// after the convolution (the CPU inference plan, models/plan/, fuses it into its tiles).
template <class T>
void conv2d_forward_epilogue(const ConvShape& s, const T* x, const T* w, T* y, const Epilogue<T>& e);
// The same between channel windows (core/conv_math.h); e's terms per channel only.
template <class T>
void conv2d_window_forward_epilogue(const ConvShape& s, const ConvWindows<T>& win, const T* x, const T* w, T* y,
                                    const Epilogue<T>& e);
// gx = d(sum y * gy)/dx, overwritten.
template <class T>
void conv2d_backward_input(const ConvShape& s, const T* gy, const T* w, T* gx);
// gw = d(sum y * gy)/dw summed over the batch, overwritten.
template <class T>
void conv2d_backward_weight(const ConvShape& s, const T* gy, const T* x, T* gw);
// y[n, c, :] += bias[c].
template <class T>
void conv_add_bias(T* y, const T* bias, int64_t batch, int64_t channels, int64_t plane);
// gb[c] = sum over n and the plane of gy[n, c]; fixed summation order.
template <class T>
void conv_bias_backward(const T* gy, int64_t batch, int64_t channels, int64_t plane, T* gb);

// Depthwise 3x3, stride 1 (s.is_depthwise3x3()), any padding and dilation.
template <class T>
void depthwise3x3_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y);
template <class T>
void depthwise3x3_backward_input(const ConvShape& s, const T* gy, const T* w, T* gx);
template <class T>
void depthwise3x3_backward_weight(const ConvShape& s, const T* gy, const T* x, T* gw);

// Column matrix of one sample and group: col[(c*kh + ky)*kw + kx, oy*out_w + ox] =
// x[c, oy*stride - padding + ky*dilation, ...] (x points at the group's first channel).
// For tests; the convolutions never materialise it on the CPU.
template <class T>
void im2col(const ConvShape& s, const T* x, T* col);
// Scatter-adds a column matrix back into an image (the adjoint of im2col): x is
// overwritten with the sum of the entries landing on each pixel.
template <class T>
void col2im(const ConvShape& s, const T* col, T* x);

// ECA's channel convolution over [batch, channels] (see core/conv_math.h); k odd.
template <class T>
void channel_conv1d_forward(const T* x, const T* w, T* y, int64_t batch, int64_t channels, int64_t k);
// Inference: y = sigmoid(channel_conv1d(x)), ECA's scale from its channel means.
template <class T>
void channel_conv1d_sigmoid_forward(const T* x, const T* w, T* y, int64_t batch, int64_t channels, int64_t k);
template <class T>
void channel_conv1d_backward_input(const T* gy, const T* w, T* gx, int64_t batch, int64_t channels,
                                   int64_t k);
template <class T>
void channel_conv1d_backward_weight(const T* gy, const T* x, T* gw, int64_t batch, int64_t channels,
                                    int64_t k);

// The grain for parallel_for over items of `work` elements each: loops of fewer than
// kParallelWork elements in all run serially (there a fork/join costs more than it saves).
constexpr int64_t kParallelWork = int64_t{1} << 15;
inline int64_t grain_for(int64_t work) { return work >= kParallelWork ? 1 : kParallelWork / (work > 0 ? work : 1); }

}  // namespace pmsdsen::cpu
