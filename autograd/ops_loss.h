#pragma once
// The segmentation loss: softmax cross-entropy, plain or with online hard example mining.
#include "core/tensor.h"

namespace pmsdsen::ops {

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

}  // namespace pmsdsen::ops
