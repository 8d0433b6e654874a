#pragma once
// CPU matrix product (the workhorse of 1x1 and im2col convolutions): packed operands, a
// register-blocked micro-kernel, OpenMP over blocks of C (or over chunks of K when C is
// small and K long). Results do not depend on the thread count.
#include <cstdint>
#include <functional>

namespace pmsdsen::cpu {

// Row-major C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, op = transpose when
// trans_* is set (then A is stored [K,M], B is stored [N,K]). lda/ldb/ldc are row strides.
// beta == 0 never reads C.
template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc);

// Products whose B is never stored (implicit im2col): pack(k0, kc, j0, nc, out) writes
// rows [k0, k0+kc) x columns [j0, j0+nc) of B into `out` as panels of
// W = gemm_panel_width<T>() columns, element (k0 + k, j0 + p*W + c) at
// out[p*W*kc + k*W + c], columns past nc set to zero. Called concurrently from several
// threads, so it must only read shared state.
template <class T>
using PackB = std::function<void(int64_t k0, int64_t kc, int64_t j0, int64_t nc, T* out)>;
template <class T>
int gemm_panel_width();

// C = alpha * op(A) * B + beta * C + row_bias[i] (row_bias may be null).
template <class T>
void gemm_packed_b(bool trans_a, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                   int64_t lda, const PackB<T>& pack, T beta, const T* row_bias, T* C,
                   int64_t ldc);

}  // namespace pmsdsen::cpu
