#include "core/cpu/gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/parallel.h"

namespace pmsdsen::cpu {

// GEMM: op(A) and op(B) are first packed so that the inner loop streams contiguous
// rows of B; C rows are split across threads. Blocking over K and N keeps a panel of
// B in cache while a block of rows of A walks over it.
namespace {

template <class T>
void pack(bool trans, int64_t rows, int64_t cols, const T* src, int64_t ld, std::vector<T>& out) {
  // out is the row-major [rows, cols] matrix op(src).
  out.resize(static_cast<size_t>(rows * cols));
  if (!trans) {
    for (int64_t r = 0; r < rows; ++r) std::memcpy(&out[r * cols], src + r * ld, cols * sizeof(T));
  } else {
    for (int64_t c = 0; c < cols; ++c)
      for (int64_t r = 0; r < rows; ++r) out[r * cols + c] = src[c * ld + r];
  }
}

}  // namespace

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
  // C = beta * C first; then accumulate alpha * A * B.
  parallel_for(0, M, [&](int64_t i) {
    T* c = C + i * ldc;
    if (beta == T(0)) std::fill(c, c + N, T(0));
    else if (beta != T(1)) for (int64_t j = 0; j < N; ++j) c[j] *= beta;
  });
  if (K == 0 || alpha == T(0)) return;

  std::vector<T> a_packed, b_packed;
  const T* a = A;
  const T* b = B;
  int64_t a_ld = lda, b_ld = ldb;
  if (trans_a) {
    pack(true, M, K, A, lda, a_packed);
    a = a_packed.data();
    a_ld = K;
  }
  if (trans_b) {
    pack(true, K, N, B, ldb, b_packed);
    b = b_packed.data();
    b_ld = N;
  }

  constexpr int64_t kBlockK = 128, kBlockN = 1024, kBlockM = 8;
  const int64_t m_blocks = (M + kBlockM - 1) / kBlockM;
  const int64_t n_blocks = (N + kBlockN - 1) / kBlockN;
  parallel_for(0, m_blocks * n_blocks, [&](int64_t blk) {
    const int64_t i0 = (blk / n_blocks) * kBlockM, i1 = std::min(M, i0 + kBlockM);
    const int64_t j0 = (blk % n_blocks) * kBlockN, j1 = std::min(N, j0 + kBlockN);
    for (int64_t k0 = 0; k0 < K; k0 += kBlockK) {
      const int64_t k1 = std::min(K, k0 + kBlockK);
      for (int64_t i = i0; i < i1; ++i) {
        T* c = C + i * ldc;
        const T* ai = a + i * a_ld;
        for (int64_t k = k0; k < k1; ++k) {
          const T aik = alpha * ai[k];
          const T* bk = b + k * b_ld;
          for (int64_t j = j0; j < j1; ++j) c[j] += aik * bk[j];
        }
      }
    }
  });
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                           const double*, int64_t, double, double*, int64_t);

}  // namespace pmsdsen::cpu
