#pragma once
// Source coordinates of PyTorch's bilinear interpolation (upsample_bilinear2d) along one
// axis, shared by the CPU and CUDA kernels. Computed in T (float for float32 tensors,
// as PyTorch's accscalar_t), so the float path rounds as PyTorch does.
#include "core/hd.h"

namespace pmsdsen::hd {

// area_pixel_compute_scale: align_corners: (in-1)/(out-1), 0 when out == 1; otherwise
// 1/scale when a scale factor was given (scale > 0), else in/out.
template <class T>
PMSDSEN_HD T bilinear_ratio(int in, int out, bool align_corners, double scale) {
  if (align_corners) return out > 1 ? T(in - 1) / T(out - 1) : T(0);
  return scale > 0.0 ? T(1.0 / scale) : T(in) / T(out);
}

// For output index d: the two source indices i0 <= i1 and their weights l0 + l1 = 1.
// area_pixel_compute_source_index, clamped at 0 with align_corners=false, then PyTorch's
// guard: i0 = min(floor(src), in-1), l1 = clamp(src - i0, 0, 1), i1 = i0 + (i0 < in-1).
template <class T>
PMSDSEN_HD void bilinear_source(T ratio, int d, int in, bool align_corners, int& i0, int& i1,
                                T& l0, T& l1) {
  T src;
  if (align_corners) {
    src = ratio * T(d);
  } else {
    src = ratio * (T(d) + T(0.5)) - T(0.5);
    if (src < T(0)) src = T(0);
  }
  int i = static_cast<int>(src);  // src >= 0: truncation is floor
  if (i > in - 1) i = in - 1;
  T l = src - T(i);
  l = l < T(0) ? T(0) : (l > T(1) ? T(1) : l);
  i0 = i;
  i1 = i < in - 1 ? i + 1 : i;
  l1 = l;
  l0 = T(1) - l;
}

template <class T>
PMSDSEN_HD int bilinear_i0(T ratio, int d, int in, bool align_corners) {
  int i0, i1;
  T l0, l1;
  bilinear_source(ratio, d, in, align_corners, i0, i1, l0, l1);
  return i0;
}

// The weight with which output d reads input j (0 when it does not).
template <class T>
PMSDSEN_HD T bilinear_weight(T ratio, int d, int in, bool align_corners, int j) {
  int i0, i1;
  T l0, l1;
  bilinear_source(ratio, d, in, align_corners, i0, i1, l0, l1);
  return (i0 == j ? l0 : T(0)) + (i1 == j ? l1 : T(0));
}

// The outputs [first, last) that read input j: i0 is non-decreasing in d (each float
// operation above is monotonic), and output d reads i0(d) and i0(d) + 1, so they are the
// outputs with i0 in {j-1, j}. Found by binary search.
template <class T>
PMSDSEN_HD int bilinear_first_output_with_i0_at_least(T ratio, int out, int in, bool align_corners,
                                                      int j) {
  int lo = 0, hi = out;
  while (lo < hi) {
    const int mid = (lo + hi) / 2;
    if (bilinear_i0(ratio, mid, in, align_corners) >= j) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

template <class T>
PMSDSEN_HD void bilinear_outputs_reading(T ratio, int out, int in, bool align_corners, int j,
                                         int& first, int& last) {
  first = bilinear_first_output_with_i0_at_least(ratio, out, in, align_corners, j - 1);
  last = bilinear_first_output_with_i0_at_least(ratio, out, in, align_corners, j + 1);
}

}  // namespace pmsdsen::hd
