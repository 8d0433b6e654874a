// The epilogue interpreter of the NHWC kernels: each EpOp is one tight loop over the tile
// (pixels x its columns), so the dispatch costs a branch per op and tile, not per element.
#include <cstring>

#include "core/activation_math.h"
#include "core/cpu/nhwc.h"
#include "core/cpu/vec_math.h"
#include "core/resize_math.h"

namespace pmsdsen::cpu::nhwc {
namespace {

inline float gelu(float x) { return hd::gelu<float, CpuMath>(x); }

// v[0..m) = act(v), slopes indexed from the op's first column.
inline void activate(float* __restrict__ v, int m, const Act& act) {
  switch (act.kind) {
    case Act::None:
      break;
    case Act::GELU:
#pragma omp simd
      for (int c = 0; c < m; ++c) v[c] = gelu(v[c]);
      break;
    case Act::PReLU: {
      const float* s = act.slopes;
#pragma omp simd
      for (int c = 0; c < m; ++c) v[c] = v[c] > 0.0f ? v[c] : v[c] * s[c];
      break;
    }
    case Act::Leaky: {
      const float s = act.slope;
#pragma omp simd
      for (int c = 0; c < m; ++c) v[c] = v[c] > 0.0f ? v[c] : v[c] * s;
      break;
    }
  }
}

void add_resized(const EpOp& op, const Tile& t) {
  const int m = op.c1 - op.c0;
  const ConstView& s = op.src;
  for (int64_t r = 0; r < t.T; ++r) {
    const int64_t p = t.p0 + r;
    const int y = static_cast<int>(p / t.out_w), x = static_cast<int>(p % t.out_w);
    int y0, y1, x0, x1;
    float a0, a1, b0, b1;
    hd::bilinear_source(op.ratio_h, y, op.src_h, false, y0, y1, a0, a1);
    hd::bilinear_source(op.ratio_w, x, op.src_w, false, x0, x1, b0, b1);
    const float* s00 = s.at(t.n, int64_t(y0) * op.src_w + x0);
    const float* s01 = s.at(t.n, int64_t(y0) * op.src_w + x1);
    const float* s10 = s.at(t.n, int64_t(y1) * op.src_w + x0);
    const float* s11 = s.at(t.n, int64_t(y1) * op.src_w + x1);
    float* v = t.v + r * t.ld + op.c0;
#pragma omp simd
    for (int c = 0; c < m; ++c) v[c] += a0 * (b0 * s00[c] + b1 * s01[c]) + a1 * (b0 * s10[c] + b1 * s11[c]);
  }
}

}  // namespace

void run_epilogue(const EpOp* ops, int count, const Tile& t) {
  for (int i = 0; i < count; ++i) {
    const EpOp& op = ops[i];
    const int m = op.c1 - op.c0;
    float* base = t.v + op.c0;
    switch (op.kind) {
      case EpOp::Bias: {
        const float* a = op.a;
        for (int64_t r = 0; r < t.T; ++r) {
          float* v = base + r * t.ld;
#pragma omp simd
          for (int c = 0; c < m; ++c) v[c] += a[c];
        }
        break;
      }
      case EpOp::Affine: {
        const float *a = op.a, *b = op.b;
        for (int64_t r = 0; r < t.T; ++r) {
          float* v = base + r * t.ld;
#pragma omp simd
          for (int c = 0; c < m; ++c) v[c] = v[c] * a[c] + b[c];
        }
        break;
      }
      case EpOp::ScaleNC: {
        const float* s = op.nc + t.n * op.nc_stride;
        for (int64_t r = 0; r < t.T; ++r) {
          float* v = base + r * t.ld;
#pragma omp simd
          for (int c = 0; c < m; ++c) v[c] *= s[c];
        }
        break;
      }
      case EpOp::AddNC: {
        const float* s = op.nc + t.n * op.nc_stride;
        for (int64_t r = 0; r < t.T; ++r) {
          float* v = base + r * t.ld;
#pragma omp simd
          for (int c = 0; c < m; ++c) v[c] += s[c];
        }
        break;
      }
      case EpOp::AddView: {
        const float* src = op.view.base + t.n * op.view.sample + t.p0 * op.view.stride;
        const int64_t st = op.view.stride;
        if (op.nc) {
          const float* s = op.nc + t.n * op.nc_stride;
          for (int64_t r = 0; r < t.T; ++r) {
            float* v = base + r * t.ld;
            const float* x = src + r * st;
#pragma omp simd
            for (int c = 0; c < m; ++c) v[c] += x[c] * s[c];
          }
        } else {
          for (int64_t r = 0; r < t.T; ++r) {
            float* v = base + r * t.ld;
            const float* x = src + r * st;
#pragma omp simd
            for (int c = 0; c < m; ++c) v[c] += x[c];
          }
        }
        break;
      }
      case EpOp::AddResized:
        add_resized(op, t);
        break;
      case EpOp::Activate:
        for (int64_t r = 0; r < t.T; ++r) activate(base + r * t.ld, m, op.act);
        break;
      case EpOp::Store: {
        float* dst = op.view.base + t.n * op.view.sample + t.p0 * op.view.stride;
        const int64_t st = op.view.stride;
        if (st == m && t.ld == m) {
          std::memcpy(dst, base, sizeof(float) * static_cast<size_t>(m * t.T));
        } else {
          for (int64_t r = 0; r < t.T; ++r) std::memcpy(dst + r * st, base + r * t.ld, sizeof(float) * m);
        }
        break;
      }
      case EpOp::StoreMapped: {
        float* dst = op.view.base + t.n * op.view.sample + t.p0 * op.view.stride;
        const int64_t st = op.view.stride;
        const float *a = op.a, *b = op.b;
        float* sums = op.sums ? op.sums + t.slot * op.sums_stride : nullptr;
        if (sums) std::memset(sums, 0, sizeof(float) * m);
        for (int64_t r = 0; r < t.T; ++r) {
          const float* v = base + r * t.ld;
          float* d = dst + r * st;
          if (a) {
#pragma omp simd
            for (int c = 0; c < m; ++c) d[c] = v[c] * a[c] + b[c];
          } else {
            std::memcpy(d, v, sizeof(float) * m);
          }
          activate(d, m, op.act);
          if (sums) {
#pragma omp simd
            for (int c = 0; c < m; ++c) sums[c] += d[c];
          }
        }
        break;
      }
      case EpOp::Sum: {
        float* sums = op.sums + t.slot * op.sums_stride;
        std::memset(sums, 0, sizeof(float) * m);
        for (int64_t r = 0; r < t.T; ++r) {
          const float* v = base + r * t.ld;
#pragma omp simd
          for (int c = 0; c < m; ++c) sums[c] += v[c];
        }
        break;
      }
      case EpOp::StoreNCHW: {
        float* dst = op.view.base + t.n * op.view.sample + t.p0;
        for (int c = 0; c < m; ++c) {
          float* d = dst + c * op.plane;
          const float* v = base + c;
          for (int64_t r = 0; r < t.T; ++r) d[r] = v[r * t.ld];
        }
        break;
      }
    }
  }
}

}  // namespace pmsdsen::cpu::nhwc
