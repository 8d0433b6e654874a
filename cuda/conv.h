#pragma once
// CUDA convolution kernels (float32, device pointers, queued on the library stream, no
// synchronisation). Mirrors core/cpu/conv.h; the entry points pick their path inside:
//   1x1 stride 1            cuBLAS strided-batched products, no column matrix
//   depthwise 3x3 stride 1  shared-memory tiles (conv_depthwise.cu)
//   everything else         im2col + cuBLAS (col2im as a gather for input gradients)
// Weight and bias gradients are reduced in a fixed order: bit-identical run to run.
#include <cstdint>

#include "core/conv_math.h"
#include "core/epilogue_math.h"

namespace pmsdsen::cuda {

void conv2d_forward(const ConvShape& s, const float* x, const float* w, const float* bias, float* y);
// Inference: y = epilogue(conv(x, w)) (no bias: it is the epilogue's add). The depthwise
// kernel applies it before its stores; the other paths in one pass after the product.
void conv2d_forward_epilogue(const ConvShape& s, const float* x, const float* w, float* y,
                             const Epilogue<float>& epi);
// The same between channel windows (core/conv_math.h), e's terms per channel only: the
// depthwise kernel reads (and sums) its windows and writes its own; a 1x1 product reads
// and writes them through cuBLAS's strides; other shapes gather and scatter.
void conv2d_window_forward_epilogue(const ConvShape& s, const ConvWindows<float>& win, const float* x,
                                    const float* w, float* y, const Epilogue<float>& epi);
void conv2d_backward_input(const ConvShape& s, const float* gy, const float* w, float* gx);
void conv2d_backward_weight(const ConvShape& s, const float* gy, const float* x, float* gw);
void conv_add_bias(float* y, const float* bias, int64_t batch, int64_t channels, int64_t plane);
void conv_bias_backward(const float* gy, int64_t batch, int64_t channels, int64_t plane, float* gb);

void depthwise3x3_forward(const ConvShape& s, const float* x, const float* w, const float* bias,
                          float* y);
void depthwise3x3_forward_epilogue(const ConvShape& s, const float* x, const float* w, float* y,
                                   const Epilogue<float>& epi);
// Inference, 1x1 convolutions of at most 768 input channels (conv_pointwise.cu): the
// product and its epilogue in one kernel, between channel windows.
bool use_pointwise_kernel(const ConvShape& s);
void pointwise_forward_epilogue(const ConvShape& s, const ConvWindows<float>& win, const float* x, const float* w,
                                float* y, const Epilogue<float>& epi);
void depthwise3x3_window_forward_epilogue(const ConvShape& s, const ConvWindows<float>& win, const float* x,
                                          const float* w, float* y, const Epilogue<float>& epi);
void depthwise3x3_backward_input(const ConvShape& s, const float* gy, const float* w, float* gx);
void depthwise3x3_backward_weight(const ConvShape& s, const float* gy, const float* x, float* gw);

// One sample, one group (x at the group's first channel), as cpu::im2col / cpu::col2im.
void im2col(const ConvShape& s, const float* x, float* col);
void col2im(const ConvShape& s, const float* col, float* x);

void channel_conv1d_forward(const float* x, const float* w, float* y, int64_t batch,
                            int64_t channels, int64_t k);
void channel_conv1d_sigmoid_forward(const float* x, const float* w, float* y, int64_t batch, int64_t channels,
                                    int64_t k);
void channel_conv1d_backward_input(const float* gy, const float* w, float* gx, int64_t batch,
                                   int64_t channels, int64_t k);
void channel_conv1d_backward_weight(const float* gy, const float* x, float* gw, int64_t batch,
                                    int64_t channels, int64_t k);

}  // namespace pmsdsen::cuda
