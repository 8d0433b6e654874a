#pragma once
// Geometry of the two-stage per-channel reductions over [N, C, S] tensors (batch-norm
// statistics and gradients, PReLU slope gradient): block (j, c) reduces piece j of
// channel c (piece k of plane n, j = n * pieces + k) into partial[c * per_channel + j];
// a second kernel merges a channel's partials in index order. A piece is at most
// kReducePiece elements, kReducePerThread per thread: planes smaller than that get one
// piece and a block just big enough for it. The split depends on the shape only, so the
// sums are bit-identical run to run. Include from .cu only.
#include <cstdint>

#include "core/error.h"
#include "cuda/launch.cuh"
#include "cuda/reduce.cuh"

namespace pmsdsen::cuda {

constexpr int kReduceThreads = 256;
constexpr int kReducePerThread = 16;
constexpr int64_t kReducePiece = kReduceThreads * kReducePerThread;  // elements per block

struct ChannelPieces {
  int64_t N, C, S, pieces, per_channel;
  int threads;  // per block of the partial kernel
  ChannelPieces(int64_t n, int64_t c, int64_t s)
      : N(n), C(c), S(s), pieces(std::max<int64_t>(1, (s + kReducePiece - 1) / kReducePiece)),
        per_channel(n * pieces), threads(reduce_threads(std::min(s, kReducePiece), kReducePerThread, kReduceThreads)) {
    PMSDSEN_CHECK(c <= 65535, "channel reduction: ", c, " channels exceed the CUDA grid limit 65535");
  }
  dim3 grid() const { return dim3(static_cast<unsigned>(per_channel), static_cast<unsigned>(C)); }
  int64_t count() const { return C * per_channel; }
};

// Inside a partial kernel: the piece of block (blockIdx.x, blockIdx.y).
struct PieceRange {
  int64_t offset;  // of the piece's first element in the tensor
  int len;
};

__device__ __forceinline__ PieceRange piece_of_block(int64_t C, int64_t S, int64_t pieces) {
  const int64_t c = blockIdx.y, j = blockIdx.x;
  const int64_t n = j / pieces, k = j % pieces;
  const int64_t lo = k * kReducePiece;
  const int64_t len = S - lo < kReducePiece ? S - lo : kReducePiece;
  return {(n * C + c) * S + lo, static_cast<int>(len)};
}

__device__ __forceinline__ int64_t piece_length(int64_t j, int64_t S, int64_t pieces) {
  const int64_t lo = (j % pieces) * kReducePiece;
  return S - lo < kReducePiece ? S - lo : kReducePiece;
}

}  // namespace pmsdsen::cuda
