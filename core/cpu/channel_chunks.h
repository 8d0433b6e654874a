#pragma once
// Deterministic per-channel reductions over [N, C, S] tensors on the CPU: every plane
// (n, c) is cut into pieces of a fixed length, each piece is reduced on its own (in
// double), and the pieces of a channel are combined in index order afterwards. The cut
// depends on the shape only, so results do not depend on the thread count.
#include <algorithm>
#include <cstdint>

#include "core/cpu/grain.h"
#include "core/parallel.h"

namespace pmsdsen::cpu {

// sum_i f(i) for i in [0, n) in double, over 8 interleaved accumulators combined in a
// fixed order: independent add chains (vectorisable), and a result fixed by n alone.
template <class F>
double lane_sum(int64_t n, F&& f) {
  constexpr int kLanes = 8;
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += f(i + l);
  for (int l = 0; i < n; ++i, ++l) acc[l] += f(i);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

struct ChannelChunks {
  static constexpr int64_t kPiece = 16384;
  ChannelChunks(int64_t n, int64_t c, int64_t s)
      : N(n), C(c), S(s), pieces(std::max<int64_t>(1, (s + kPiece - 1) / kPiece)) {}
  int64_t per_channel() const { return N * pieces; }
  int64_t count() const { return C * per_channel(); }

  // f(item, c, offset, length) for every piece, in parallel; item = c * per_channel() + j
  // indexes the piece's result slot, offset is the element offset of the piece in the tensor.
  template <class F>
  void for_each(F&& f) const {
    parallel_for(0, count(), [&](int64_t item) {
      const int64_t c = item / per_channel(), j = item % per_channel();
      const int64_t n = j / pieces, k = j % pieces;
      const int64_t lo = k * kPiece, len = std::min(kPiece, S - lo);
      f(item, c, (n * C + c) * S + lo, len);
    }, grain_for(std::min(S, kPiece)));
  }

  int64_t N, C, S, pieces;
};

}  // namespace pmsdsen::cpu
