#pragma once
// Convolutions, with PyTorch's semantics (output sizes rounded down, zero padding,
// weight layouts [Cout, Cin/groups, kH, kW] and, transposed, [Cin, Cout, kH, kW]).
#include "autograd/epilogue_spec.h"
#include "core/tensor.h"

namespace pmsdsen::ops {

struct Conv2dOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
  int64_t groups = 1;
};

// x [N, Cin, H, W], weight [Cout, Cin/groups, k, k], bias [Cout] or undefined.
// Fast paths: 1x1 (a matrix product), depthwise 3x3 with any dilation, dense 3x3.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              const Conv2dOptions& options = {});

// Inference: epilogue(conv2d(x, weight)) with no bias of its own (a bias is e.add). On
// CUDA the depthwise kernel applies the epilogue before its stores; elsewhere one pass
// follows the product. Not differentiable (see ops::epilogue).
Tensor conv2d_epilogue(const Tensor& x, const Tensor& weight, const Conv2dOptions& options, const EpilogueSpec& e);

// Channels [first, first + count) of an [N, C, H, W] tensor (count -1: to the end); as an
// input, optionally multiplied by a per-sample channel scale [N, count, 1, 1] as it is read.
struct ChannelWindow {
  Tensor tensor;
  int64_t first = 0, count = -1;
  Tensor scale;
};

// Inference: dst's window = epilogue(conv2d(x's window (+ addend's window), weight)), the
// windows read and written in place in their tensors, so that no slice or concatenation
// is copied (LRMS's chained depthwise branches). The epilogue's terms must be per channel
// (no residual or per-sample scale); dst's window may not overlap the inputs'. On CUDA the
// depthwise kernel and 1x1 products work on the windows directly. Not differentiable.
void conv2d_epilogue_into(const ChannelWindow& x, const ChannelWindow& addend, const Tensor& weight,
                          const Conv2dOptions& options, const EpilogueSpec& e, const ChannelWindow& dst);

struct ConvTranspose2dOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t output_padding = 0;
};

// x [N, Cin, H, W], weight [Cin, Cout, k, k], bias [Cout] or undefined.
// Output size (H - 1) * stride - 2 * padding + k + output_padding.
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const ConvTranspose2dOptions& options = {});

// ECA's 1-D convolution across channels: x [N, C, 1, 1], weight [1, 1, k] (k odd),
// zero padding (k - 1) / 2, no bias; output [N, C, 1, 1].
Tensor channel_conv1d(const Tensor& x, const Tensor& weight);

// Inference: sigmoid(channel_conv1d(x, weight)) in one pass, ECA's channel scale from its
// channel means (layers/eca.h). Not differentiable.
Tensor eca_scale(const Tensor& x, const Tensor& weight);

// Output size of a convolution along one axis (PyTorch's formula, rounded down).
inline int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding,
                                int64_t dilation = 1) {
  return (in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;
}

}  // namespace pmsdsen::ops
