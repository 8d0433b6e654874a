// The emulated GPU's stand-ins for cuBLAS and CUB against naive references written from
// their documentation: cublasSgemm / cublasSgemmStridedBatched (column-major, both
// transposes, leading dimensions, alpha and beta, C unread when beta is 0, argument
// checks) and cub::DeviceRadixSort::SortKeys (size query, numeric order of floats with
// signed zeros, infinities and NaNs, bit ranges, stability, undersized storage).
#include <cublas_v2.h>

#include <algorithm>
#include <cmath>
#include <cub/cub.cuh>
#include <cstring>
#include <limits>
#include <utility>

#include "core/rng.h"
#include "tests/test_emu_util.h"

using namespace pmsdsen;
using test::contains_all;
using test::DeviceArray;

namespace {

struct GemmCase {
  bool ta, tb;
  int m, n, k, lda, ldb, ldc;
  float alpha, beta;
  int batch;
  long long sa, sb, sc;
};

// C = alpha op(A) op(B) + beta C, column-major, element by element in double.
std::vector<float> reference(const GemmCase& g, const std::vector<float>& A, const std::vector<float>& B,
                             std::vector<float> C) {
  for (int s = 0; s < g.batch; ++s)
    for (int j = 0; j < g.n; ++j)
      for (int i = 0; i < g.m; ++i) {
        double acc = 0;
        for (int p = 0; p < g.k; ++p) {
          const double a = g.ta ? A[s * g.sa + p + i * g.lda] : A[s * g.sa + i + p * g.lda];
          const double b = g.tb ? B[s * g.sb + j + p * g.ldb] : B[s * g.sb + p + j * g.ldb];
          acc += a * b;
        }
        float& c = C[s * g.sc + i + j * g.ldc];
        c = static_cast<float>(g.alpha * acc + (g.beta == 0.f ? 0.0 : g.beta * static_cast<double>(c)));
      }
  return C;
}

std::vector<float> random_values(size_t n, Generator& gen) {
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(gen.uniform(-1, 1));
  return v;
}

cublasHandle_t handle() {
  static cublasHandle_t h = [] {
    cublasHandle_t created = nullptr;
    EXPECT_EQ(cublasCreate(&created), CUBLAS_STATUS_SUCCESS);
    return created;
  }();
  return h;
}

}  // namespace

TEST(EmuCublas, SgemmMatchesTheColumnMajorDefinition) {
  Generator gen(3);
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (auto [m, n, k] : {std::tuple{1, 1, 1}, {7, 5, 3}, {33, 17, 65}, {4, 9, 0}})
        for (auto [alpha, beta] : {std::pair{1.f, 0.f}, {-0.5f, 2.f}, {0.f, 1.f}}) {
          const int pad = 3;
          GemmCase g{ta, tb, m, n, k, (ta ? k : m) + pad, (tb ? n : k) + pad, m + pad, alpha, beta, 1, 0, 0, 0};
          std::vector<float> A = random_values(static_cast<size_t>(g.lda) * (ta ? m : std::max(k, 1)), gen);
          std::vector<float> B = random_values(static_cast<size_t>(g.ldb) * (tb ? std::max(k, 1) : n), gen);
          std::vector<float> C = random_values(static_cast<size_t>(g.ldc) * n, gen);
          if (beta == 0.f) C[0] = std::numeric_limits<float>::quiet_NaN();  // not read when beta is 0
          DeviceArray<float> dA(A), dB(B), dC(C);
          ASSERT_EQ(cublasSgemm(handle(), ta ? CUBLAS_OP_T : CUBLAS_OP_N, tb ? CUBLAS_OP_T : CUBLAS_OP_N, m, n, k,
                                &alpha, dA.get(), g.lda, dB.get(), g.ldb, &beta, dC.get(), g.ldc),
                    CUBLAS_STATUS_SUCCESS);
          const std::vector<float> want = reference(g, A, B, C), got = dC.host();
          for (size_t i = 0; i < want.size(); ++i)
            ASSERT_NEAR(got[i], want[i], 1e-5 * (1 + std::abs(want[i])))
                << "ta " << ta << " tb " << tb << " m " << m << " n " << n << " k " << k << " alpha " << alpha
                << " beta " << beta << " element " << i;
        }
}

TEST(EmuCublas, StridedBatchedSharesAnOperandWithStrideZero) {
  Generator gen(4);
  GemmCase g{false, true, 6, 5, 4, 6, 5, 6, 1.5f, 0.25f, 3, 0, 5 * 4 + 2, 6 * 5 + 1};
  std::vector<float> A = random_values(6 * 4, gen), B = random_values(3 * 22, gen), C = random_values(3 * 31, gen);
  DeviceArray<float> dA(A), dB(B), dC(C);
  ASSERT_EQ(cublasSgemmStridedBatched(handle(), CUBLAS_OP_N, CUBLAS_OP_T, g.m, g.n, g.k, &g.alpha, dA.get(), g.lda,
                                      g.sa, dB.get(), g.ldb, g.sb, &g.beta, dC.get(), g.ldc, g.sc, g.batch),
            CUBLAS_STATUS_SUCCESS);
  const std::vector<float> want = reference(g, A, B, C), got = dC.host();
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5 * (1 + std::abs(want[i]))) << i;
}

TEST(EmuCublas, ArgumentsAreCheckedAsCublasDoes) {
  DeviceArray<float> d(64);
  const float one = 1.f, zero = 0.f;
  // lda below the rows of A, ldc below m, negative sizes.
  EXPECT_EQ(cublasSgemm(handle(), CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, d.get(), 3, d.get(), 4, &zero, d.get(), 4),
            CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_TRUE(contains_all(cublasGetStatusString(CUBLAS_STATUS_INVALID_VALUE), {"lda 3 < max(1, 4)"}));
  EXPECT_EQ(cublasSgemm(handle(), CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, d.get(), 4, d.get(), 4, &zero, d.get(), 2),
            CUBLAS_STATUS_INVALID_VALUE);
  EXPECT_EQ(cublasSgemm(handle(), CUBLAS_OP_N, CUBLAS_OP_N, -1, 4, 4, &one, d.get(), 4, d.get(), 4, &zero, d.get(), 4),
            CUBLAS_STATUS_INVALID_VALUE);
  // A product that reaches past its matrix's allocation fails as a GPU fault would.
  EXPECT_EQ(cublasSgemm(handle(), CUBLAS_OP_N, CUBLAS_OP_N, 9, 9, 9, &one, d.get(), 9, d.get(), 9, &zero, d.get(), 9),
            CUBLAS_STATUS_EXECUTION_FAILED);
  EXPECT_TRUE(contains_all(cublasGetStatusString(CUBLAS_STATUS_EXECUTION_FAILED),
                           {"matrix A", "overruns the 256-byte allocation"}));
  std::vector<float> host(64);
  EXPECT_EQ(cublasSgemm(handle(), CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, host.data(), 4, d.get(), 4, &zero,
                        d.get(), 4),
            CUBLAS_STATUS_EXECUTION_FAILED);
  EXPECT_TRUE(contains_all(cublasGetStatusString(CUBLAS_STATUS_EXECUTION_FAILED), {"matrix A", "not device memory"}));
  // Empty products return at once; k = 0 scales C by beta.
  EXPECT_EQ(cublasSgemm(handle(), CUBLAS_OP_N, CUBLAS_OP_N, 0, 4, 4, &one, nullptr, 1, nullptr, 4, &zero, nullptr, 1),
            CUBLAS_STATUS_SUCCESS);
  std::vector<float> c(16, 3.f);
  d.set(std::vector<float>(64, 0.f));
  DeviceArray<float> dc(c);
  const float half = 0.5f;
  ASSERT_EQ(cublasSgemm(handle(), CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 0, &one, d.get(), 4, d.get(), 1, &half, dc.get(), 4),
            CUBLAS_STATUS_SUCCESS);
  for (float v : dc.host()) EXPECT_EQ(v, 1.5f);
  EXPECT_STREQ(cublasGetStatusName(CUBLAS_STATUS_NOT_SUPPORTED), "CUBLAS_STATUS_NOT_SUPPORTED");
}

namespace {

// CUB's order for floats: numeric, -0 equal to +0 (input order kept), -NaN first, +NaN last.
std::pair<int, float> sort_rank(float v) {
  if (std::isnan(v)) return {std::signbit(v) ? 0 : 2, 0.f};
  return {1, v == 0.f ? 0.f : v};
}

std::vector<float> sort_on_device(const std::vector<float>& keys, int begin_bit = 0, int end_bit = 32) {
  DeviceArray<float> in(keys), out(keys.size());
  size_t temp_bytes = 0;
  EXPECT_EQ(cub::DeviceRadixSort::SortKeys(nullptr, temp_bytes, in.get(), out.get(), static_cast<int>(keys.size()),
                                           begin_bit, end_bit),
            cudaSuccess);
  DeviceArray<char> temp(temp_bytes);
  EXPECT_EQ(cub::DeviceRadixSort::SortKeys(temp.get(), temp_bytes, in.get(), out.get(), static_cast<int>(keys.size()),
                                           begin_bit, end_bit),
            cudaSuccess);
  return out.host();
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST(EmuCub, SortKeysOrdersFloatsAsCub) {
  Generator gen(9);
  std::vector<float> keys = random_values(5000, gen);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (float special : {0.f, -0.f, inf, -inf, nan, -nan, 1e-40f, -1e-40f, 0.5f, 0.5f, -0.f, 0.f})
    keys.insert(keys.begin() + static_cast<long>(gen.uniform(0, static_cast<double>(keys.size()))), special);
  std::vector<float> want = keys;
  std::stable_sort(want.begin(), want.end(), [](float a, float b) { return sort_rank(a) < sort_rank(b); });
  EXPECT_TRUE(same_bits(sort_on_device(keys), want));
}

TEST(EmuCub, SortKeysOnABitRangeIsStable) {
  // Sorting on bits [16, 32) orders by sign, exponent and the top of the mantissa only;
  // keys equal there keep their input order.
  Generator gen(10);
  std::vector<float> keys = random_values(3000, gen);
  auto top = [](float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    u = (u & 0x80000000u) ? ~u : u | 0x80000000u;
    return u >> 16;
  };
  std::vector<float> want = keys;
  std::stable_sort(want.begin(), want.end(), [&](float a, float b) { return top(a) < top(b); });
  EXPECT_TRUE(same_bits(sort_on_device(keys, 16, 32), want));
}

TEST(EmuCub, UndersizedTemporaryStorageIsRefused) {
  DeviceArray<float> in(std::vector<float>(100, 1.f)), out(100);
  size_t temp_bytes = 0;
  ASSERT_EQ(cub::DeviceRadixSort::SortKeys(nullptr, temp_bytes, in.get(), out.get(), 100), cudaSuccess);
  EXPECT_GE(temp_bytes, 400u);
  DeviceArray<char> temp(temp_bytes);
  size_t smaller = temp_bytes - 1;
  const cudaError_t e = cub::DeviceRadixSort::SortKeys(temp.get(), smaller, in.get(), out.get(), 100);
  EXPECT_EQ(e, cudaErrorInvalidValue);
  EXPECT_TRUE(contains_all(cudaGetErrorString(e), {"temporary storage", "the size query asked for"}));
  cudaGetLastError();
}
