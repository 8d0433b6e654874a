// The CPU GEMM against a plain triple loop: every transpose combination, row strides
// wider than the matrices, sizes around the micro-tile and block edges, the tiny-product
// and split-K paths, alpha/beta, beta = 0 ignoring garbage in C, an implicit B with a
// row bias, and results independent of the thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/cpu/gemm.h"
#include "core/parallel.h"
#include "core/rng.h"

using namespace pmsdsen;

namespace {

struct Problem {
  bool ta, tb;
  int64_t M, N, K;
  int64_t pad = 0;  // extra columns in each stored row (lda/ldb/ldc > width)
};

template <class T>
std::vector<T> random_vector(size_t n, Generator& g) {
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(g.uniform(-1.0, 1.0));
  return v;
}

template <class T>
void check_gemm(const Problem& p, T alpha, T beta, double tol) {
  Generator g(static_cast<uint64_t>(p.M * 131 + p.N * 17 + p.K + p.ta * 2 + p.tb));
  const int64_t a_rows = p.ta ? p.K : p.M, a_cols = p.ta ? p.M : p.K;
  const int64_t b_rows = p.tb ? p.N : p.K, b_cols = p.tb ? p.K : p.N;
  const int64_t lda = a_cols + p.pad, ldb = b_cols + p.pad, ldc = p.N + p.pad;
  const std::vector<T> A = random_vector<T>(static_cast<size_t>(a_rows * lda), g);
  const std::vector<T> B = random_vector<T>(static_cast<size_t>(b_rows * ldb), g);
  std::vector<T> C = random_vector<T>(static_cast<size_t>(p.M * ldc), g);
  if (beta == T(0)) std::fill(C.begin(), C.end(), std::numeric_limits<T>::quiet_NaN());
  std::vector<T> expected = C;
  for (int64_t i = 0; i < p.M; ++i) {
    for (int64_t j = 0; j < p.N; ++j) {
      long double acc = 0;
      for (int64_t k = 0; k < p.K; ++k)
        acc += static_cast<long double>(p.ta ? A[k * lda + i] : A[i * lda + k]) *
               (p.tb ? B[j * ldb + k] : B[k * ldb + j]);
      T& e = expected[static_cast<size_t>(i * ldc + j)];
      e = static_cast<T>(alpha * acc + (beta == T(0) ? 0.0L : static_cast<long double>(beta) * e));
    }
  }
  cpu::gemm<T>(p.ta, p.tb, p.M, p.N, p.K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
  double scale = 1e-30, err = 0;
  for (int64_t i = 0; i < p.M; ++i) {
    for (int64_t j = 0; j < p.N; ++j) {
      const size_t idx = static_cast<size_t>(i * ldc + j);
      scale = std::max(scale, std::abs(static_cast<double>(expected[idx])));
      const double d = std::abs(static_cast<double>(C[idx]) - static_cast<double>(expected[idx]));
      if (!(d <= err)) err = d;  // NaN sticks
    }
    for (int64_t j = p.N; j < ldc; ++j) {  // the padding columns of C are never touched
      const size_t idx = static_cast<size_t>(i * ldc + j);
      if (beta == T(0)) {
        EXPECT_TRUE(std::isnan(C[idx])) << "wrote past N at row " << i;
      } else {
        EXPECT_EQ(C[idx], expected[idx]) << "wrote past N at row " << i;
      }
    }
  }
  EXPECT_LT(err / scale, tol) << "ta " << p.ta << " tb " << p.tb << " M " << p.M << " N " << p.N
                              << " K " << p.K << " pad " << p.pad << " alpha " << alpha
                              << " beta " << beta;
}

std::vector<Problem> problems() {
  std::vector<Problem> ps;
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      ps.push_back({ta, tb, 1, 1, 1});
      ps.push_back({ta, tb, 7, 9, 5, 3});          // tiny path
      ps.push_back({ta, tb, 8, 32, 256});          // exactly one micro-tile column, one depth block
      ps.push_back({ta, tb, 33, 77, 129, 1});      // edges in every dimension
      ps.push_back({ta, tb, 130, 520, 300, 2});    // > one row block, several column blocks, 2 depth blocks
      ps.push_back({ta, tb, 19, 3000, 64});        // segmentation head shape
      ps.push_back({ta, tb, 5, 9, 9000, 1});       // split K (weight gradient shape)
      ps.push_back({ta, tb, 16, 27, 9500});        // split K, stem weight gradient
    }
  return ps;
}

}  // namespace

TEST(Gemm, FloatMatchesTripleLoop) {
  for (const Problem& p : problems()) check_gemm<float>(p, 1.f, 0.f, 2e-6 * std::sqrt(double(p.K) + 1));
}

TEST(Gemm, DoubleMatchesTripleLoop) {
  for (const Problem& p : problems()) check_gemm<double>(p, 1.0, 0.0, 1e-14 * std::sqrt(double(p.K) + 1));
}

TEST(Gemm, AlphaAndBetaScale) {
  for (const Problem& p : {Problem{false, false, 7, 9, 5}, Problem{true, false, 40, 300, 70, 2},
                           Problem{false, true, 6, 8, 12000}}) {
    check_gemm<double>(p, 0.5, 1.0, 1e-13);
    check_gemm<double>(p, -2.0, 0.25, 1e-13);
    check_gemm<float>(p, 1.5f, -1.f, 1e-5);
  }
}

TEST(Gemm, EmptyDepthScalesC) {
  std::vector<float> C = {1, 2, 3, 4};
  cpu::gemm<float>(false, false, 2, 2, 0, 1.f, nullptr, 1, nullptr, 2, 3.f, C.data(), 2);
  EXPECT_EQ(C, (std::vector<float>{3, 6, 9, 12}));
  cpu::gemm<float>(false, false, 2, 2, 0, 1.f, nullptr, 1, nullptr, 2, 0.f, C.data(), 2);
  EXPECT_EQ(C, (std::vector<float>{0, 0, 0, 0}));
}

TEST(Gemm, PackedBWithRowBiasMatchesStoredB) {
  // An implicit B (here: B[k, j] = k - 0.5 j, written by the packer) and a row bias.
  const int64_t M = 21, N = 1000, K = 70, W = cpu::gemm_panel_width<double>();
  Generator g(4);
  const std::vector<double> A = random_vector<double>(static_cast<size_t>(M * K), g);
  const std::vector<double> bias = random_vector<double>(static_cast<size_t>(M), g);
  std::vector<double> B(static_cast<size_t>(K * N));
  for (int64_t k = 0; k < K; ++k)
    for (int64_t j = 0; j < N; ++j) B[static_cast<size_t>(k * N + j)] = double(k) - 0.5 * double(j);
  const cpu::PackB<double> pack = [&](int64_t k0, int64_t kc, int64_t j0, int64_t nc, double* out) {
    for (int64_t p = 0; p * W < nc; ++p)
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t c = 0; c < W; ++c) {
          const int64_t j = p * W + c;
          out[p * W * kc + k * W + c] = j < nc ? double(k0 + k) - 0.5 * double(j0 + j) : 0.0;
        }
  };
  std::vector<double> C1(static_cast<size_t>(M * N), 0.0), C2(static_cast<size_t>(M * N), 0.0);
  cpu::gemm_packed_b<double>(false, M, N, K, 1.0, A.data(), K, pack, 0.0, bias.data(), C1.data(), N);
  cpu::gemm<double>(false, false, M, N, K, 1.0, A.data(), K, B.data(), N, 0.0, C2.data(), N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      const size_t idx = static_cast<size_t>(i * N + j);
      ASSERT_NEAR(C1[idx], C2[idx] + bias[static_cast<size_t>(i)], 1e-9) << i << ", " << j;
    }
}

TEST(Gemm, ResultsDoNotDependOnThreadCount) {
  const int threads = num_threads();
  for (const Problem& p : {Problem{false, false, 32, 3000, 144}, Problem{false, true, 32, 144, 20000},
                           Problem{true, false, 288, 700, 64}}) {
    Generator g(9);
    const int64_t lda = p.ta ? p.M : p.K, ldb = p.tb ? p.K : p.N;
    const std::vector<float> A = random_vector<float>(static_cast<size_t>(p.M * p.K), g);
    const std::vector<float> B = random_vector<float>(static_cast<size_t>(p.K * p.N), g);
    std::vector<float> C1(static_cast<size_t>(p.M * p.N)), C2(C1.size());
    set_num_threads(1);
    cpu::gemm<float>(p.ta, p.tb, p.M, p.N, p.K, 1.f, A.data(), lda, B.data(), ldb, 0.f, C1.data(), p.N);
    set_num_threads(2);
    cpu::gemm<float>(p.ta, p.tb, p.M, p.N, p.K, 1.f, A.data(), lda, B.data(), ldb, 0.f, C2.data(), p.N);
    set_num_threads(threads);
    EXPECT_EQ(C1, C2) << "M " << p.M << " N " << p.N << " K " << p.K;
  }
}
