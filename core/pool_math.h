#pragma once
// Window geometry of floor-mode 2-D pooling along one axis, as PyTorch computes it,
// shared by the CPU and CUDA kernels. All indices are within one plane (int is enough).
#include "core/hd.h"

namespace pmsdsen::hd {

// Average pooling (count_include_pad=True): the window of output o clipped to the input,
// [start, end), and the divisor's factor along this axis: the window length clipped to
// the padded input, min(o*s - p + k, in + p) - (o*s - p).
PMSDSEN_HD void avg_pool_window(int o, int k, int s, int p, int in, int& start, int& end,
                                int& divisor) {
  int lo = o * s - p;
  int hi = lo + k < in + p ? lo + k : in + p;
  divisor = hi - lo;
  start = lo > 0 ? lo : 0;
  end = hi < in ? hi : in;
}

// Max pooling: the window clipped to the input.
PMSDSEN_HD void max_pool_window(int o, int k, int s, int p, int in, int& start, int& end) {
  const int lo = o * s - p;
  const int hi = lo + k;
  start = lo > 0 ? lo : 0;
  end = hi < in ? hi : in;
}

// The outputs [first, last) whose (unclipped) window o*s - p .. o*s - p + k - 1 contains
// input index i, for the gather-form backward.
PMSDSEN_HD void pool_windows_containing(int i, int k, int s, int p, int out, int& first, int& last) {
  const int a = i + p - k + 1;  // o*s >= a
  first = a <= 0 ? 0 : (a + s - 1) / s;
  last = (i + p) / s + 1;  // o*s <= i + p
  if (last > out) last = out;
  if (first > last) first = last;
}

}  // namespace pmsdsen::hd
