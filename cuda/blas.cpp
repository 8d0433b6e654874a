#include "cuda/blas.h"

#include <cublas_v2.h>

#include <algorithm>

#include "core/cuda_env.h"

#define PMSDSEN_CUBLAS_CHECK(expr)                                                        \
  do {                                                                                    \
    cublasStatus_t pmsdsen_status_ = (expr);                                              \
    if (pmsdsen_status_ != CUBLAS_STATUS_SUCCESS)                                         \
      ::pmsdsen::throw_error(__FILE__, __LINE__,                                          \
                             ::pmsdsen::str("cuBLAS error in ", #expr, ": ",             \
                                            cublasGetStatusName(pmsdsen_status_), " (", \
                                            cublasGetStatusString(pmsdsen_status_), ")")); \
  } while (0)

namespace pmsdsen::cuda {
namespace {

cublasHandle_t handle() {
  static cublasHandle_t h = [] {
    cublasHandle_t created = nullptr;
    PMSDSEN_CUBLAS_CHECK(cublasCreate(&created));
    PMSDSEN_CUBLAS_CHECK(cublasSetStream(created, cuda_env::stream()));
    // Full float32 arithmetic: results must match the CPU backend.
    PMSDSEN_CUBLAS_CHECK(cublasSetMathMode(created, CUBLAS_DEFAULT_MATH));
    return created;
  }();
  return h;
}

int to_int(int64_t v, const char* what) {
  PMSDSEN_CHECK(v >= 0 && v <= INT32_MAX, "gemm: ", what, " = ", v, " exceeds cuBLAS's int range");
  return static_cast<int>(v);
}

// cuBLAS refuses a leading dimension below 1, which an operand with K = 0 columns has;
// with K = 0 the product is beta * C and the operand is never read.
int leading(int64_t ld, const char* what) { return to_int(std::max<int64_t>(1, ld), what); }

}  // namespace

// cuBLAS is column-major: a row-major C = A B is the column-major C^T = B^T A^T, so the
// operands are passed swapped, with M and N exchanged.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
          int64_t ldc) {
  if (M == 0 || N == 0) return;
  PMSDSEN_CUBLAS_CHECK(cublasSgemm(handle(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                   trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, to_int(N, "N"),
                                   to_int(M, "M"), to_int(K, "K"), &alpha, B, leading(ldb, "ldb"),
                                   A, leading(lda, "lda"), &beta, C, to_int(ldc, "ldc")));
}

void gemm_strided_batched(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                          float alpha, const float* A, int64_t lda, int64_t stride_a,
                          const float* B, int64_t ldb, int64_t stride_b, float beta, float* C,
                          int64_t ldc, int64_t stride_c, int64_t batch) {
  if (M == 0 || N == 0 || batch == 0) return;
  PMSDSEN_CUBLAS_CHECK(cublasSgemmStridedBatched(
      handle(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
      to_int(N, "N"), to_int(M, "M"), to_int(K, "K"), &alpha, B, leading(ldb, "ldb"), stride_b, A,
      leading(lda, "lda"), stride_a, &beta, C, to_int(ldc, "ldc"), stride_c,
      to_int(batch, "batch")));
}

}  // namespace pmsdsen::cuda
