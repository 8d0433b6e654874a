#pragma once
// cuBLAS matrix products with row-major semantics (float32, device pointers).
#include <cstdint>

namespace pmsdsen::cuda {

// Row-major C[M,N] = alpha * op(A) * op(B) + beta * C, as cpu::gemm.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
          int64_t ldc);

// `batch` independent products; matrix b of each operand starts at ptr + b * stride.
void gemm_strided_batched(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                          float alpha, const float* A, int64_t lda, int64_t stride_a,
                          const float* B, int64_t ldb, int64_t stride_b, float beta, float* C,
                          int64_t ldc, int64_t stride_c, int64_t batch);

}  // namespace pmsdsen::cuda
