#pragma once
// CPU matrix product (the workhorse of 1x1 and im2col convolutions).
#include <cstdint>

namespace pmsdsen::cpu {

// Row-major C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, op = transpose when
// trans_* is set (then A is stored [K,M], B is stored [N,K]). lda/ldb/ldc are row strides.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

}  // namespace pmsdsen::cpu
