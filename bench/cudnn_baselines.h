#pragma once
// cuDNN versions of our ops, on the same rotating buffers as ours. Plain C++: the
// definitions (bench/cudnn_*.cpp) exist only when the app is built with cuDNN
// (PMSDSEN_WITH_CUDNN); families call these under that macro. Each throws
// pmsdsen::Error with cuDNN's reason when it refuses a configuration.
#include <cstdint>

#include "bench/kernel_registry.h"

namespace pmsdsen::bench {

enum class ConvPass { Forward, InputGrad, WeightGrad };

// A (transposed) convolution's geometry: input [N, Cin, H, W] -> output [N, Cout, OH, OW].
struct ConvGeometry {
  int64_t N = 1, Cin = 1, H = 1, W = 1, Cout = 1, OH = 1, OW = 1;
  int64_t k = 3, stride = 1, pad = 0, dilation = 1, groups = 1;
};

// Indices of the op's tensors in a set, in forward terms; -1 where absent. For
// InputGrad, `y` holds the incoming gradient and `x` receives the input gradient; for
// WeightGrad, `x` and `y` (the gradient) are read and `w` (and `b`, if given) receive
// the weight (bias) gradient. Forward adds the bias when `b` is given.
struct ConvSlots {
  int x = -1, w = -1, b = -1, y = -1;
};

// Conv2d (weights [Cout, Cin/groups, k, k]): cudnnConvolutionForward / BackwardData /
// BackwardFilter (+ AddTensor / BackwardBias), algorithm by cudnnFind*AlgorithmEx.
Baseline cudnn_conv(const SharedBuffers& buffers, const ConvGeometry& g, ConvPass pass, ConvSlots slots);
// ConvTranspose2d (weights [Cin, Cout, k, k]) as the adjoint of a convolution:
// forward = BackwardData, input gradient = Forward, weight gradient = BackwardFilter.
Baseline cudnn_conv_transpose(const SharedBuffers& buffers, const ConvGeometry& g, ConvPass pass,
                              ConvSlots slots);

// Batch norm in training mode over x [N, C, H, W].
struct BatchNormSlots {
  int x = -1, weight = -1, bias = -1, running_mean = -1, running_var = -1;
  int save_mean = -1, save_invstd = -1, y = -1;      // forward writes these
  int gy = -1, gx = -1, gweight = -1, gbias = -1;   // backward
};
Baseline cudnn_batch_norm_forward(const SharedBuffers& buffers, BatchNormSlots s, double momentum, double eps);
Baseline cudnn_batch_norm_backward(const SharedBuffers& buffers, BatchNormSlots s, double eps);

// cuDNN's legacy activations have no GELU: swish (x * sigmoid(x)) stands in for it, an
// elementwise op of the same shape and a transcendental per element, marked as a
// stand-in (not the same function: no error check). backward reads x, y and gy.
Baseline cudnn_swish_stand_in(const SharedBuffers& buffers, bool backward, int x, int y, int gy, int gx);

// Pooling (floor mode; average counts the padding). forward: x -> y; backward reads
// x, y, gy and writes gx.
enum class PoolKind { Average, Max };
struct PoolSlots {
  int x = -1, y = -1, gy = -1, gx = -1;
};
Baseline cudnn_pool(const SharedBuffers& buffers, PoolKind kind, int64_t k, int64_t stride, int64_t pad,
                    bool backward, PoolSlots slots);
// Global average pooling [N, C, H, W] -> [N, C, 1, 1]: cudnnReduceTensor (mean) forward;
// backward as average pooling over the whole plane.
Baseline cudnn_global_avg_pool(const SharedBuffers& buffers, bool backward, PoolSlots slots);

}  // namespace pmsdsen::bench
