// cuBLAS single-precision products for the emulated device: column-major as cuBLAS
// documents them, with its argument checks, quick returns, and the rule that C is not
// read when beta is zero. Each element is one float sum over k in order.
#include <cublas_v2.h>

#include <string>
#include <vector>

#include "cuda/emu/device_memory.h"
#include "cuda/emu/errors.h"
#include "cuda/emu/queue.h"
#include "emu/launch.h"

struct cublasContext {
  cudaStream_t stream = nullptr;
  cublasMath_t mode = CUBLAS_DEFAULT_MATH;
};

namespace pmsdsen::emu {
namespace {

cublasStatus_t refuse(cublasStatus_t status, const std::string& detail) {
  set_cublas_detail(status, detail);
  return status;
}

bool transposed(cublasOperation_t op) { return op != CUBLAS_OP_N; }

struct Gemm {
  bool ta, tb;
  int m, n, k;
  float alpha, beta;
  const float* A;
  int lda;
  long long sa;
  const float* B;
  int ldb;
  long long sb;
  float* C;
  int ldc;
  long long sc;
  int batch;
};

// Elements an operand spans: `cols` columns of `rows` rows, `ld` apart.
size_t extent(int rows, int cols, int ld) {
  return rows == 0 || cols == 0 ? 0 : static_cast<size_t>(cols - 1) * ld + rows;
}

void run(const Gemm& g) {
  std::vector<float> a(static_cast<size_t>(g.m) * g.k), b(static_cast<size_t>(g.n) * g.k);
  for (int s = 0; s < g.batch; ++s) {
    const float* A = g.A + s * g.sa;
    const float* B = g.B + s * g.sb;
    float* C = g.C + s * g.sc;
    // op(A) row by row and op(B) column by column, so that each dot product is contiguous.
    for (int i = 0; i < g.m; ++i)
      for (int p = 0; p < g.k; ++p)
        a[static_cast<size_t>(i) * g.k + p] = g.ta ? A[p + static_cast<size_t>(i) * g.lda] : A[i + static_cast<size_t>(p) * g.lda];
    for (int j = 0; j < g.n; ++j)
      for (int p = 0; p < g.k; ++p)
        b[static_cast<size_t>(j) * g.k + p] = g.tb ? B[j + static_cast<size_t>(p) * g.ldb] : B[p + static_cast<size_t>(j) * g.ldb];
    for (int j = 0; j < g.n; ++j)
      for (int i = 0; i < g.m; ++i) {
        const float* ai = a.data() + static_cast<size_t>(i) * g.k;
        const float* bj = b.data() + static_cast<size_t>(j) * g.k;
        float dot = 0.f;
        for (int p = 0; p < g.k; ++p) dot += ai[p] * bj[p];
        float& c = C[i + static_cast<size_t>(j) * g.ldc];
        c = g.beta == 0.f ? g.alpha * dot : g.alpha * dot + g.beta * c;
      }
  }
}

cublasStatus_t gemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n, int k,
                    const float* alpha, const float* A, int lda, long long sa, const float* B, int ldb, long long sb,
                    const float* beta, float* C, int ldc, long long sc, int batch, const char* api) {
  if (!handle) return refuse(CUBLAS_STATUS_NOT_INITIALIZED, std::string(api) + ": null handle");
  count_launch(std::string("cublas ") + api);
  for (cublasOperation_t op : {transa, transb})
    if (op != CUBLAS_OP_N && op != CUBLAS_OP_T && op != CUBLAS_OP_C)
      return refuse(CUBLAS_STATUS_INVALID_VALUE, std::string(api) + ": unknown operation");
  const bool ta = transposed(transa), tb = transposed(transb);
  const int rows_a = ta ? k : m, cols_a = ta ? m : k, rows_b = tb ? n : k, cols_b = tb ? k : n;
  const auto bad = [&](const std::string& why) { return refuse(CUBLAS_STATUS_INVALID_VALUE, std::string(api) + ": " + why); };
  if (m < 0 || n < 0 || k < 0 || batch < 0) return bad("negative size");
  if (lda < std::max(1, rows_a)) return bad("lda " + std::to_string(lda) + " < max(1, " + std::to_string(rows_a) + ")");
  if (ldb < std::max(1, rows_b)) return bad("ldb " + std::to_string(ldb) + " < max(1, " + std::to_string(rows_b) + ")");
  if (ldc < std::max(1, m)) return bad("ldc " + std::to_string(ldc) + " < max(1, " + std::to_string(m) + ")");
  if (!alpha || !beta) return bad("null alpha or beta");
  if (m == 0 || n == 0 || batch == 0) return CUBLAS_STATUS_SUCCESS;
  const bool reads_ab = k > 0 && *alpha != 0.f;
  for (int s = 0; s < batch; ++s) {
    struct Operand {
      const char* name;
      const void* p;
      size_t elements;
      bool used;
    } ops[] = {{"A", A + s * sa, extent(rows_a, cols_a, lda), reads_ab},
               {"B", B + s * sb, extent(rows_b, cols_b, ldb), reads_ab},
               {"C", C + s * sc, extent(m, n, ldc), true}};
    for (const Operand& o : ops) {
      if (!o.used) continue;
      const std::string why = check_device_range(o.p, o.elements * sizeof(float));
      if (!why.empty())
        return refuse(CUBLAS_STATUS_EXECUTION_FAILED,
                      std::string(api) + ": matrix " + o.name + " of batch " + std::to_string(s) + ": " + why);
    }
  }
  const Gemm g{ta, tb, m, n, reads_ab ? k : 0, *alpha, *beta, A, lda, sa, B, ldb, sb, C, ldc, sc, batch};
  const cudaError_t e = submit(handle->stream, api, [g] {
    DeviceAccess access;
    run(g);
    return cudaSuccess;
  });
  return e == cudaSuccess ? CUBLAS_STATUS_SUCCESS : refuse(CUBLAS_STATUS_EXECUTION_FAILED, cudaGetErrorString(e));
}

}  // namespace
}  // namespace pmsdsen::emu

using namespace pmsdsen::emu;

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  if (!handle) return refuse(CUBLAS_STATUS_INVALID_VALUE, "cublasCreate: null output pointer");
  *handle = new cublasContext;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  if (!handle) return refuse(CUBLAS_STATUS_NOT_INITIALIZED, "cublasDestroy: null handle");
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  if (!handle) return refuse(CUBLAS_STATUS_NOT_INITIALIZED, "cublasSetStream: null handle");
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  if (!handle) return refuse(CUBLAS_STATUS_NOT_INITIALIZED, "cublasSetMathMode: null handle");
  handle->mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

namespace {
struct StatusText {
  cublasStatus_t status;
  const char* name;
  const char* text;
};
constexpr StatusText kStatuses[] = {
    {CUBLAS_STATUS_SUCCESS, "CUBLAS_STATUS_SUCCESS", "success"},
    {CUBLAS_STATUS_NOT_INITIALIZED, "CUBLAS_STATUS_NOT_INITIALIZED", "the library was not initialized"},
    {CUBLAS_STATUS_ALLOC_FAILED, "CUBLAS_STATUS_ALLOC_FAILED", "the resource allocation failed"},
    {CUBLAS_STATUS_INVALID_VALUE, "CUBLAS_STATUS_INVALID_VALUE", "an invalid numeric value was used as an argument"},
    {CUBLAS_STATUS_ARCH_MISMATCH, "CUBLAS_STATUS_ARCH_MISMATCH", "an absent device architectural feature is required"},
    {CUBLAS_STATUS_MAPPING_ERROR, "CUBLAS_STATUS_MAPPING_ERROR", "an access to GPU memory space failed"},
    {CUBLAS_STATUS_EXECUTION_FAILED, "CUBLAS_STATUS_EXECUTION_FAILED", "the GPU program failed to execute"},
    {CUBLAS_STATUS_INTERNAL_ERROR, "CUBLAS_STATUS_INTERNAL_ERROR", "an internal operation failed"},
    {CUBLAS_STATUS_NOT_SUPPORTED, "CUBLAS_STATUS_NOT_SUPPORTED", "the functionality requested is not supported"},
};
const StatusText* find(cublasStatus_t s) {
  for (const StatusText& t : kStatuses)
    if (t.status == s) return &t;
  return nullptr;
}
}  // namespace

const char* cublasGetStatusName(cublasStatus_t status) {
  const StatusText* t = find(status);
  return t ? t->name : "CUBLAS_STATUS_UNKNOWN";
}

const char* cublasGetStatusString(cublasStatus_t status) {
  const StatusText* t = find(status);
  return with_detail(status, t ? t->text : "unknown status", true);
}

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                           int k, const float* alpha, const float* A, int lda, const float* B, int ldb,
                           const float* beta, float* C, int ldc) {
  return gemm(handle, transa, transb, m, n, k, alpha, A, lda, 0, B, ldb, 0, beta, C, ldc, 0, 1, "cublasSgemm");
}

cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb,
                                         int m, int n, int k, const float* alpha, const float* A, int lda,
                                         long long strideA, const float* B, int ldb, long long strideB,
                                         const float* beta, float* C, int ldc, long long strideC, int batchCount) {
  return gemm(handle, transa, transb, m, n, k, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC,
              batchCount, "cublasSgemmStridedBatched");
}
