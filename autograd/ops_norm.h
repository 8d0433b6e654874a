#pragma once
// Batch normalisation, with PyTorch's semantics.
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

}  // namespace pmsdsen::ops
