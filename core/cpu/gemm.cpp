#include "core/cpu/gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"

namespace pmsdsen::cpu {

// GEMM after BLIS/GotoBLAS: op(A) is packed into blocks of MR-row panels and op(B) into
// blocks of NR-column panels (zero-padded), so that a register-blocked MR x NR
// micro-kernel streams both operands contiguously. Work is split over blocks of C; when
// C is too small to keep the threads busy and K is long (weight gradients: K = H*W),
// K is split into chunks whose partial products are summed in a fixed order.
//
// Every element of C is accumulated in the same order (K blocks of KC ascending, k
// ascending inside a block; K chunks ascending) whatever the thread count, so results
// are reproducible run to run and across machines with the same vector width.
namespace {

#if defined(__AVX512F__)
constexpr int kVecBytes = 64;
#elif defined(__AVX__)
constexpr int kVecBytes = 32;
#else
constexpr int kVecBytes = 16;
#endif

template <class T>
struct Geometry {
  static constexpr int kLanes = kVecBytes / static_cast<int>(sizeof(T));
  static constexpr int kVectors = 2;                     // vectors per micro-tile row
  static constexpr int NR = kVectors * kLanes;           // micro-tile columns
  static constexpr int MR = kVecBytes == 64 ? 8 : 6;     // MR * kVectors accumulators in registers
  static constexpr int64_t KC = 256;                     // depth of one packed block
  static constexpr int64_t MC = MR * 16;                 // rows of a packed A block (L2-resident)
  static constexpr int64_t NC = 1024;                    // most columns of a packed B block
};

constexpr int64_t kSmall = 1 << 15;          // M*N*K below which a plain loop is faster
constexpr int64_t kSplitMaxC = 1 << 16;      // K is split only when C has at most this many elements
constexpr int64_t kSplitMinK = 1 << 13;      // ...and K at least this long
constexpr int64_t kSplitChunk = 1 << 12;     // K per chunk (a multiple of KC)
constexpr int64_t kSplitMaxChunks = 32;
constexpr int64_t kParallelMacs = 1 << 20;  // products below this run on one thread

// A per-thread, 64-byte-aligned scratch buffer that only grows (no page faults per call).
template <class T>
T* scratch(int slot, size_t count) {
  struct Buffer {
    void* ptr = nullptr;
    size_t bytes = 0;
    ~Buffer() { std::free(ptr); }
  };
  thread_local Buffer buffers[2];
  Buffer& b = buffers[slot];
  const size_t bytes = (count * sizeof(T) + 63) / 64 * 64;
  if (bytes > b.bytes) {
    std::free(b.ptr);
    b.ptr = std::aligned_alloc(64, bytes);
    PMSDSEN_CHECK(b.ptr != nullptr, "gemm: out of memory for a ", bytes, "-byte packing buffer");
    b.bytes = bytes;
  }
  return static_cast<T*>(b.ptr);
}

struct Operands {
  bool trans_a, trans_b;
  int64_t lda, ldb, ldc;
};

// Packs rows [i0, i0+mc) x depth [p0, p0+kc) of op(A) into MR-row panels:
// panel p holds element (i0 + p*MR + r, p0 + k) at p*MR*kc + k*MR + r.
template <class T>
void pack_a(const T* A, const Operands& o, int64_t i0, int64_t mc, int64_t p0, int64_t kc, T* out) {
  constexpr int MR = Geometry<T>::MR;
  for (int64_t ip = 0; ip < mc; ip += MR) {
    const int rows = static_cast<int>(std::min<int64_t>(MR, mc - ip));
    T* panel = out + ip * kc;
    if (o.trans_a) {  // op(A)(i, k) = A[k * lda + i]: rows of a panel are contiguous
      for (int64_t k = 0; k < kc; ++k) {
        const T* src = A + (p0 + k) * o.lda + i0 + ip;
        T* dst = panel + k * MR;
        for (int r = 0; r < rows; ++r) dst[r] = src[r];
        for (int r = rows; r < MR; ++r) dst[r] = T(0);
      }
    } else {  // op(A)(i, k) = A[i * lda + k]
      for (int r = 0; r < rows; ++r) {
        const T* src = A + (i0 + ip + r) * o.lda + p0;
        for (int64_t k = 0; k < kc; ++k) panel[k * MR + r] = src[k];
      }
      for (int r = rows; r < MR; ++r)
        for (int64_t k = 0; k < kc; ++k) panel[k * MR + r] = T(0);
    }
  }
}

// Packs depth [p0, p0+kc) x columns [j0, j0+nc) of op(B) into NR-column panels:
// panel p holds element (p0 + k, j0 + p*NR + c) at p*NR*kc + k*NR + c.
template <class T>
void pack_b(const T* B, const Operands& o, int64_t p0, int64_t kc, int64_t j0, int64_t nc, T* out) {
  constexpr int NR = Geometry<T>::NR;
  for (int64_t jp = 0; jp < nc; jp += NR) {
    const int cols = static_cast<int>(std::min<int64_t>(NR, nc - jp));
    T* panel = out + jp * kc;
    if (!o.trans_b) {  // op(B)(k, j) = B[k * ldb + j]: a panel row is a contiguous run
      for (int64_t k = 0; k < kc; ++k) {
        const T* src = B + (p0 + k) * o.ldb + j0 + jp;
        T* dst = panel + k * NR;
        if (cols == NR) {
          std::memcpy(dst, src, sizeof(T) * NR);
        } else {
          for (int c = 0; c < cols; ++c) dst[c] = src[c];
          for (int c = cols; c < NR; ++c) dst[c] = T(0);
        }
      }
    } else {  // op(B)(k, j) = B[j * ldb + k]
      for (int c = 0; c < cols; ++c) {
        const T* src = B + (j0 + jp + c) * o.ldb + p0;
        for (int64_t k = 0; k < kc; ++k) panel[k * NR + c] = src[k];
      }
      for (int c = cols; c < NR; ++c)
        for (int64_t k = 0; k < kc; ++k) panel[k * NR + c] = T(0);
    }
  }
}

// acc[MR][NR] = sum_k a[k*MR + i] * b[k*NR + j] over packed panels.
#if defined(__GNUC__)
// GCC/Clang vector extensions: portable C++ (no intrinsics) that compiles to full-width
// registers and fused multiply-adds on any target.
template <class T>
inline void micro_kernel(int64_t kc, const T* __restrict__ a, const T* __restrict__ b,
                         T* __restrict__ acc_out) {
  using G = Geometry<T>;
  typedef T V __attribute__((vector_size(kVecBytes)));
  V acc[G::MR][G::kVectors];
  for (int i = 0; i < G::MR; ++i)
    for (int v = 0; v < G::kVectors; ++v) acc[i][v] = V{};
  for (int64_t k = 0; k < kc; ++k) {
    V bv[G::kVectors];
    for (int v = 0; v < G::kVectors; ++v)
      std::memcpy(&bv[v], b + k * G::NR + v * G::kLanes, sizeof(V));
    for (int i = 0; i < G::MR; ++i) {
      const V av = a[k * G::MR + i] - V{};  // a broadcast (x - 0 folds to x; 0 + x would not)
      for (int v = 0; v < G::kVectors; ++v) acc[i][v] += av * bv[v];
    }
  }
  for (int i = 0; i < G::MR; ++i)
    for (int v = 0; v < G::kVectors; ++v)
      std::memcpy(acc_out + i * G::NR + v * G::kLanes, &acc[i][v], sizeof(V));
}
#else
// Plain loops with compile-time bounds, for compilers without vector extensions.
template <class T>
inline void micro_kernel(int64_t kc, const T* a, const T* b, T* acc_out) {
  using G = Geometry<T>;
  T acc[G::MR][G::NR] = {};
  for (int64_t k = 0; k < kc; ++k)
    for (int i = 0; i < G::MR; ++i)
      for (int j = 0; j < G::NR; ++j) acc[i][j] += a[k * G::MR + i] * b[k * G::NR + j];
  for (int i = 0; i < G::MR; ++i)
    for (int j = 0; j < G::NR; ++j) acc_out[i * G::NR + j] = acc[i][j];
}
#endif

// C tile (rows x cols of it) = (first ? beta * C + bias : C) + alpha * acc; beta == 0
// never reads C (which may hold garbage or NaN). bias (per row) may be null.
template <class T>
inline void update_tile(const T* acc, T* c, int64_t ldc, int rows, int cols, T alpha, T beta,
                        const T* bias, bool first) {
  constexpr int NR = Geometry<T>::NR;
  for (int i = 0; i < rows; ++i) {
    T* ci = c + i * ldc;
    const T* ai = acc + i * NR;
    if (!first) {
      for (int j = 0; j < cols; ++j) ci[j] += alpha * ai[j];
      continue;
    }
    const T b = bias ? bias[i] : T(0);
    if (beta == T(0)) {
      for (int j = 0; j < cols; ++j) ci[j] = alpha * ai[j] + b;
    } else if (beta == T(1)) {
      for (int j = 0; j < cols; ++j) ci[j] += alpha * ai[j] + b;
    } else {
      for (int j = 0; j < cols; ++j) ci[j] = beta * ci[j] + alpha * ai[j] + b;
    }
  }
}

// C[i0:i1, j0:j1] = beta * C + alpha * op(A)[i0:i1, k0:k1] op(B)[k0:k1, j0:j1], serially.
// pack(p0, kc, j0, nc, out) packs op(B) as pack_b does.
template <class T, class PackFn>
void gemm_block(const Operands& o, int64_t i0, int64_t i1, int64_t j0, int64_t j1, int64_t k0,
                int64_t k1, T alpha, const T* A, const PackFn& pack, T beta, const T* bias, T* C) {
  using G = Geometry<T>;
  const int64_t nc_max = std::min<int64_t>(G::NC, (j1 - j0 + G::NR - 1) / G::NR * G::NR);
  const int64_t mc_max = std::min<int64_t>(G::MC, (i1 - i0 + G::MR - 1) / G::MR * G::MR);
  T* b_packed = scratch<T>(0, static_cast<size_t>(G::KC * nc_max));
  T* a_packed = scratch<T>(1, static_cast<size_t>(G::KC * mc_max));
  alignas(64) T acc[G::MR * G::NR];
  for (int64_t jc = j0; jc < j1; jc += G::NC) {
    const int64_t nc = std::min<int64_t>(G::NC, j1 - jc);
    for (int64_t pc = k0; pc < k1; pc += G::KC) {
      const int64_t kc = std::min<int64_t>(G::KC, k1 - pc);
      const bool first = pc == k0;
      pack(pc, kc, jc, nc, b_packed);
      for (int64_t ic = i0; ic < i1; ic += G::MC) {
        const int64_t mc = std::min<int64_t>(G::MC, i1 - ic);
        pack_a(A, o, ic, mc, pc, kc, a_packed);
        for (int64_t jr = 0; jr < nc; jr += G::NR) {
          const int cols = static_cast<int>(std::min<int64_t>(G::NR, nc - jr));
          for (int64_t ir = 0; ir < mc; ir += G::MR) {
            const int rows = static_cast<int>(std::min<int64_t>(G::MR, mc - ir));
            micro_kernel<T>(kc, a_packed + ir * kc, b_packed + jr * kc, acc);
            update_tile(acc, C + (ic + ir) * o.ldc + jc + jr, o.ldc, rows, cols, alpha, beta,
                        bias ? bias + ic + ir : nullptr, first);
          }
        }
      }
    }
  }
}

// Plain loops for tiny products (ECA-sized, 1x1 convs on pooled maps).
template <class T>
void gemm_small(const Operands& o, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                const T* B, T beta, T* C) {
  for (int64_t i = 0; i < M; ++i) {
    T* ci = C + i * o.ldc;
    for (int64_t j = 0; j < N; ++j) ci[j] = beta == T(0) ? T(0) : beta * ci[j];
    for (int64_t k = 0; k < K; ++k) {
      const T aik = alpha * (o.trans_a ? A[k * o.lda + i] : A[i * o.lda + k]);
      if (o.trans_b) {
        for (int64_t j = 0; j < N; ++j) ci[j] += aik * B[j * o.ldb + k];
      } else {
        const T* bk = B + k * o.ldb;
        for (int64_t j = 0; j < N; ++j) ci[j] += aik * bk[j];
      }
    }
  }
}

// C = beta * C + alpha * op(A) op(B) + bias (per row), op(B) supplied by `pack`.
template <class T, class PackFn>
void gemm_driver(const Operands& o, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                 const PackFn& pack, T beta, const T* bias, T* C) {
  using G = Geometry<T>;
  if (M * N <= kSplitMaxC && K >= kSplitMinK) {
    // Split K: chunk c writes its partial product to P[c]; the chunks (and so the
    // order of the final sums) depend on K alone, never on the thread count.
    const int64_t chunks = std::min<int64_t>(kSplitMaxChunks, K / kSplitChunk);
    const int64_t per = (K + chunks - 1) / chunks;
    const int64_t chunk_k = (per + G::KC - 1) / G::KC * G::KC;
    const int64_t n_chunks = (K + chunk_k - 1) / chunk_k;
    std::vector<T> partial(static_cast<size_t>(n_chunks * M * N));
    Operands po = o;
    po.ldc = N;
    parallel_for(0, n_chunks, [&](int64_t c) {
      gemm_block<T>(po, 0, M, 0, N, c * chunk_k, std::min(K, (c + 1) * chunk_k), T(1), A, pack,
                    T(0), static_cast<const T*>(nullptr), partial.data() + c * M * N);
    });
    parallel_for(0, M, [&](int64_t i) {
      T* ci = C + i * o.ldc;
      const T b = bias ? bias[i] : T(0);
      for (int64_t j = 0; j < N; ++j) {
        T s = T(0);
        for (int64_t c = 0; c < n_chunks; ++c) s += partial[static_cast<size_t>((c * M + i) * N + j)];
        ci[j] = (beta == T(0) ? T(0) : beta * ci[j]) + alpha * s + b;
      }
    });
    return;
  }

  // Blocks of C: at least a few per thread and a multiple of the thread count where N
  // allows, each at most NC wide and a multiple of NR. (Block sizes do not change any
  // element's summation order.)
  const int threads = num_threads();
  const int64_t m_blocks = (M + G::MC - 1) / G::MC;
  const int64_t n_panels = (N + G::NR - 1) / G::NR;
  int64_t n_blocks = std::max((N + G::NC - 1) / G::NC, (threads * 4 + m_blocks - 1) / m_blocks);
  n_blocks = std::min(n_panels, (n_blocks + threads - 1) / threads * threads);
  const int64_t nc = (n_panels + n_blocks - 1) / n_blocks * G::NR;
  n_blocks = (N + nc - 1) / nc;
  const int64_t tasks = m_blocks * n_blocks;
  parallel_for(0, tasks, [&](int64_t t) {
    const int64_t i0 = (t % m_blocks) * G::MC, j0 = (t / m_blocks) * nc;
    gemm_block<T>(o, i0, std::min(M, i0 + G::MC), j0, std::min(N, j0 + nc), 0, K, alpha, A, pack,
                  beta, bias, C);
  }, M * N * K < kParallelMacs ? tasks : 1);
}

// C = beta * C (beta == 0: zeros, C not read) + bias.
template <class T>
void scale_rows(int64_t M, int64_t N, T beta, const T* bias, T* C, int64_t ldc) {
  parallel_for(0, M, [&](int64_t i) {
    T* c = C + i * ldc;
    const T b = bias ? bias[i] : T(0);
    for (int64_t j = 0; j < N; ++j) c[j] = (beta == T(0) ? T(0) : beta * c[j]) + b;
  }, 64);
}

}  // namespace

template <class T>
int gemm_panel_width() {
  return Geometry<T>::NR;
}

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
          int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  const Operands o{trans_a, trans_b, lda, ldb, ldc};
  if (K <= 0 || alpha == T(0)) return scale_rows<T>(M, N, beta, nullptr, C, ldc);
  if (M * N * K <= kSmall) return gemm_small(o, M, N, K, alpha, A, B, beta, C);
  gemm_driver<T>(o, M, N, K, alpha, A,
                 [&](int64_t p0, int64_t kc, int64_t j0, int64_t nc, T* out) {
                   pack_b(B, o, p0, kc, j0, nc, out);
                 },
                 beta, nullptr, C);
}

template <class T>
void gemm_packed_b(bool trans_a, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                   int64_t lda, const PackB<T>& pack, T beta, const T* row_bias, T* C,
                   int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == T(0)) return scale_rows<T>(M, N, beta, row_bias, C, ldc);
  const Operands o{trans_a, false, lda, 0, ldc};
  gemm_driver<T>(o, M, N, K, alpha, A, pack, beta, row_bias, C);
}

#define PMSDSEN_INSTANTIATE(T)                                                                 \
  template int gemm_panel_width<T>();                                                          \
  template void gemm<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t, const T*, \
                        int64_t, T, T*, int64_t);                                              \
  template void gemm_packed_b<T>(bool, int64_t, int64_t, int64_t, T, const T*, int64_t,        \
                                 const PackB<T>&, T, const T*, T*, int64_t);
PMSDSEN_INSTANTIATE(float)
PMSDSEN_INSTANTIATE(double)
#undef PMSDSEN_INSTANTIATE

}  // namespace pmsdsen::cpu
