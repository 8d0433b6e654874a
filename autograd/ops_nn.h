#pragma once
// Normalisation, activations, pooling, resizing and softmax, with PyTorch's semantics.
#include "core/tensor.h"

namespace pmsdsen::ops {

// Batch normalisation over [N, C, ...] with per-channel weight/bias [C] (either may be
// undefined: then 1 and 0). training: normalise with the biased batch variance and
// update running_mean/var in place (momentum, unbiased variance), as PyTorch; needs more
// than one value per channel; the running statistics may be undefined there (no update).
// Otherwise normalise with the running statistics (evaluation, and frozen BN during
// training), whose gradient treats them as constants. Per-channel sums are deterministic
// on both backends (fixed pieces, merged in a fixed order).
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias,
                  Tensor& running_mean, Tensor& running_var, bool training,
                  double momentum = 0.1, double eps = 1e-5);

Tensor gelu(const Tensor& x);                             // exact, erf form
Tensor prelu(const Tensor& x, const Tensor& slope);       // slope [C] per channel, or [1] shared
Tensor leaky_relu(const Tensor& x, double negative_slope);
Tensor sigmoid(const Tensor& x);

// x [N, G*C, ...]: softmax across the G channel groups at every (c, position).
Tensor softmax_groups(const Tensor& x, int64_t groups);

// Floor-mode pooling on [N, C, H, W]; padding at most kernel / 2, as PyTorch requires.
// Average pooling counts padded zeros (count_include_pad=True). Max pooling passes the
// gradient to the first maximum of each window in scan order; a NaN wins.
Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding);
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding);
Tensor global_avg_pool(const Tensor& x);  // [N, C, H, W] -> [N, C, 1, 1]

// Bilinear resize of [N, C, H, W] to [N, C, out_h, out_w]. align_corners=false uses
// half-pixel centres with the source index clamped at 0; the ratio is in/out unless
// scale_h/scale_w > 0 is given, which reproduces PyTorch's scale_factor path (ratio
// 1/scale).
Tensor bilinear(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners,
                double scale_h = 0.0, double scale_w = 0.0);
// PyTorch's interpolate(scale_factor=scale): output floor(in * scale).
Tensor bilinear_scale(const Tensor& x, double scale, bool align_corners);

struct CrossEntropyOptions {
  int64_t ignore_index = 255;
  Tensor class_weights;          // [classes] or undefined; any float dtype/device (converted)
  bool ohem = false;             // online hard example mining (the authors' OhemCrossEntropy)
  double ohem_threshold = 0.7;
  int64_t ohem_min_kept = 0;     // the authors use N*H*W/16
};

// Softmax cross-entropy of logits [N, K, ...] against target [N, ...] (int64; pixels
// equal to ignore_index are left out). Weighted mean as PyTorch: sum w[t] nll / sum w[t].
// OHEM, as the authors' _ohem_forward: with p the softmax probability of the target over
// the counted pixels, sorted ascending, threshold = max(p[min(min_kept, n_valid - 1)],
// ohem_threshold); the loss is the plain mean of w[t] nll over the pixels with
// p < threshold (the selection is not differentiated). A batch with no counted (or kept)
// pixel gives 0 with a zero gradient (PyTorch gives NaN), so training can go on.
// A target outside [0, K) other than ignore_index is an error; on CUDA checking it waits
// for the GPU once per call.
Tensor cross_entropy(const Tensor& logits, const Tensor& target,
                     const CrossEntropyOptions& options = {});

// Index of the largest logit per pixel: [N, K, H, W] -> int64 [N, H, W] (not differentiable);
// the first maximum on ties, a NaN counts as the largest.
Tensor argmax_channels(const Tensor& logits);

}  // namespace pmsdsen::ops
