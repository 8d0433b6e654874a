#pragma once
// Batch normalisation, with PyTorch's semantics.
#include "core/comm.h"
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

// batch_norm in training mode whose statistics are those of the whole batch spread over
// the ranks of `comm`, each holding its shard: N ranks of b images normalise and
// back-propagate as one process with the N*b images (PyTorch's SyncBatchNorm). The
// per-channel moments (count, mean, squared deviations) are gathered and merged in
// rank order, the same on every rank; backward sums the two per-channel sums of the
// input gradient across ranks. The weight and bias gradients are this rank's part, which
// the data-parallel average (autograd/grad_average.h) makes the whole batch's.
// All ranks together need more than one value per channel (one image a rank of a pooled
// [N, C, 1, 1] is fine). Through host memory on CUDA too (2C or 2C+1 numbers a call). One rank: batch_norm's results up to rounding.
Tensor sync_batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor& running_mean,
                       Tensor& running_var, comm::Communicator& comm, double momentum = 0.1, double eps = 1e-5);

}  // namespace pmsdsen::ops
