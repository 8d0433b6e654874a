#pragma once
// The argmax over K values `stride` apart, shared by the CPU and CUDA kernels: the first
// maximum on ties, a NaN counts as the largest (the first NaN wins).
#include <cstdint>

#include "core/hd.h"
#include "core/scalar_math.h"

namespace pmsdsen::hd {

template <class T>
PMSDSEN_HD int64_t argmax_strided(const T* x, int64_t K, int64_t stride) {
  T best = x[0];
  int64_t arg = 0;
  for (int64_t k = 1; k < K && !isnan_(best); ++k) {
    const T v = x[k * stride];
    if (v > best || isnan_(v)) {
      best = v;
      arg = k;
    }
  }
  return arg;
}

}  // namespace pmsdsen::hd
