// The epilogue interpreter of the NHWC kernels: each EpOp is one tight loop over the tile
// (pixels x its columns), so the dispatch costs a branch per op and tile, not per element.
// An op over all the columns of a tile narrower than a vector (the 4- and 8-channel maps
// of LRMS) runs over the tile as one flat array, its per-channel parameters repeated
// across a 16-float pattern, rather than pixel by pixel. Over whole vectors of channels,
// the commonest sequences run as one pass instead (a StoreMapped; an Activate, Store and
// Sum of the same columns): a pass per op over a tile in L1 cost more than the work.
#include <cstring>

#include "core/activation_math.h"
#include "core/cpu/nhwc.h"
#include "core/cpu/nhwc_gelu.h"
#include "core/cpu/vec_math.h"
#include "core/resize_math.h"

namespace pmsdsen::cpu::nhwc {
namespace {

constexpr int kPattern = 16;


// v[0..m) = act(v); slopes[0..m) for PReLU.
inline void activate(float* __restrict__ v, int64_t m, const Act& act, const float* slopes) {
  switch (act.kind) {
    case Act::None:
      break;
    case Act::GELU:
      gelu_array(v, m);
      break;
    case Act::PReLU:
#pragma omp simd
      for (int64_t c = 0; c < m; ++c) v[c] = v[c] > 0.0f ? v[c] : v[c] * slopes[c];
      break;
    case Act::Leaky: {
      const float s = act.slope;
#pragma omp simd
      for (int64_t c = 0; c < m; ++c) v[c] = v[c] > 0.0f ? v[c] : v[c] * s;
      break;
    }
  }
}

// The tile as one flat run of T * m floats, with per-channel arrays repeated to 16.
struct Flat {
  bool on = false;
  int64_t n = 0;
};
Flat flat_of(const EpOp& op, const Tile& t) {
  const int m = op.c1 - op.c0;
  Flat f;
  f.on = op.c0 == 0 && op.c1 == t.ld && m < kPattern && kPattern % m == 0;
  f.n = t.T * m;
  return f;
}
inline void repeat(const float* p, int m, float* out) {
  for (int j = 0; j < kPattern; ++j) out[j] = p[j % m];
}

// x[i] = f(x[i], pat[i % 16], i % 16, i) over n floats.
template <class F>
inline void flat_apply(float* __restrict__ x, int64_t n, const float* pat, F f) {
  int64_t i = 0;
  for (; i + kPattern <= n; i += kPattern) {
#pragma omp simd
    for (int j = 0; j < kPattern; ++j) x[i + j] = f(x[i + j], pat[j], j, i + j);
  }
  for (int j = 0; i + j < n; ++j) x[i + j] = f(x[i + j], pat[j], j, i + j);
}

// Copies m floats per pixel: dst rows of stride ds, src rows of stride ss.
inline void copy_rows(float* __restrict__ dst, int64_t ds, const float* __restrict__ src, int64_t ss, int64_t rows,
                      int m) {
  if (ds == m && ss == m) {
    std::memcpy(dst, src, sizeof(float) * static_cast<size_t>(rows * m));
    return;
  }
  switch (m) {  // fixed sizes inline; a call per pixel would not
    case 4:
      for (int64_t r = 0; r < rows; ++r) std::memcpy(dst + r * ds, src + r * ss, 16);
      return;
    case 8:
      for (int64_t r = 0; r < rows; ++r) std::memcpy(dst + r * ds, src + r * ss, 32);
      return;
    case 16:
      for (int64_t r = 0; r < rows; ++r) std::memcpy(dst + r * ds, src + r * ss, 64);
      return;
    default:
      for (int64_t r = 0; r < rows; ++r) {
        float* d = dst + r * ds;
        const float* s = src + r * ss;
#pragma omp simd
        for (int c = 0; c < m; ++c) d[c] = s[c];
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

// sums[0..m) = column sums of the tile's columns [c0, c0 + m).
void column_sums(const float* base, const Tile& t, int m, bool flat, float* sums) {
  if (flat) {
    float acc[kPattern] = {};
    const int64_t n = t.T * m;
    int64_t i = 0;
    for (; i + kPattern <= n; i += kPattern) {
#pragma omp simd
      for (int j = 0; j < kPattern; ++j) acc[j] += base[i + j];
    }
    for (int j = 0; i + j < n; ++j) acc[j] += base[i + j];
    for (int c = 0; c < m; ++c) sums[c] = 0.0f;
    for (int j = 0; j < kPattern; ++j) sums[j % m] += acc[j];
    return;
  }
  std::memset(sums, 0, sizeof(float) * m);
  for (int64_t r = 0; r < t.T; ++r) {
    const float* v = base + r * t.ld;
#pragma omp simd
    for (int c = 0; c < m; ++c) sums[c] += v[c];
  }
}

// One function per kind of op, kept out of line so that profiles name them.
#define PMSDSEN_EP_OP(name) __attribute__((noinline)) void name(const EpOp& op, const Tile& t, int m, float* base)

PMSDSEN_EP_OP(op_bias) {
  const float* a = op.a;
  const Flat flat = flat_of(op, t);
  if (flat.on) {
    float pa[kPattern];
    repeat(a, m, pa);
    flat_apply(base, flat.n, pa, [](float v, float p, int, int64_t) { return v + p; });
    return;
  }
  for (int64_t r = 0; r < t.T; ++r) {
    float* v = base + r * t.ld;
#pragma omp simd
    for (int c = 0; c < m; ++c) v[c] += a[c];
  }
}

PMSDSEN_EP_OP(op_affine) {
  const float *a = op.a, *b = op.b;
  const Flat flat = flat_of(op, t);
  if (flat.on) {
    float pa[kPattern], pb[kPattern];
    repeat(a, m, pa);
    repeat(b, m, pb);
    flat_apply(base, flat.n, pa, [&](float v, float p, int j, int64_t) { return v * p + pb[j]; });
    return;
  }
  for (int64_t r = 0; r < t.T; ++r) {
    float* v = base + r * t.ld;
#pragma omp simd
    for (int c = 0; c < m; ++c) v[c] = v[c] * a[c] + b[c];
  }
}

PMSDSEN_EP_OP(op_nc) {  // ScaleNC and AddNC
  const float* s = op.nc + t.n * op.nc_stride;
  const bool mul = op.kind == EpOp::ScaleNC;
  const Flat flat = flat_of(op, t);
  if (flat.on) {
    float pa[kPattern];
    repeat(s, m, pa);
    if (mul) flat_apply(base, flat.n, pa, [](float v, float p, int, int64_t) { return v * p; });
    else flat_apply(base, flat.n, pa, [](float v, float p, int, int64_t) { return v + p; });
    return;
  }
  for (int64_t r = 0; r < t.T; ++r) {
    float* v = base + r * t.ld;
    if (mul) {
#pragma omp simd
      for (int c = 0; c < m; ++c) v[c] *= s[c];
    } else {
#pragma omp simd
      for (int c = 0; c < m; ++c) v[c] += s[c];
    }
  }
}

PMSDSEN_EP_OP(op_add_view) {
  const float* src = op.view.base + t.n * op.view.sample + t.p0 * op.view.stride;
  const int64_t st = op.view.stride;
  const Flat flat = flat_of(op, t);
  if (flat.on && st == m) {
    if (op.nc) {
      float pa[kPattern];
      repeat(op.nc + t.n * op.nc_stride, m, pa);
      flat_apply(base, flat.n, pa, [src](float v, float p, int, int64_t k) { return v + src[k] * p; });
    } else {
#pragma omp simd
      for (int64_t k = 0; k < flat.n; ++k) base[k] += src[k];
    }
    return;
  }
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
}

PMSDSEN_EP_OP(op_activate) {
  const Flat flat = flat_of(op, t);
  if (op.c0 == 0 && op.c1 == t.ld && op.act.kind != Act::PReLU) {
    activate(base, t.T * m, op.act, nullptr);
  } else if (flat.on) {
    float pa[kPattern];
    repeat(op.act.slopes, m, pa);
    flat_apply(base, flat.n, pa, [](float v, float p, int, int64_t) { return v > 0.0f ? v : v * p; });
  } else {
    for (int64_t r = 0; r < t.T; ++r) activate(base + r * t.ld, m, op.act, op.act.slopes);
  }
}

PMSDSEN_EP_OP(op_store) {
  copy_rows(op.view.base + t.n * op.view.sample + t.p0 * op.view.stride, op.view.stride, base, t.ld, t.T, m);
}

#if defined(__AVX__)
// StoreMapped over whole vectors of channels in one pass: per vector of channels, down
// the tile's rows, map, activate, store and sum (the sums stay in a register). The same
// arithmetic in the same order as the three passes below, which remain for other widths.
template <class F>
void store_mapped_vectors(const EpOp& op, const Tile& t, int m, const float* base, float* dst, int64_t st, F act) {
  float* sums = op.sums ? op.sums + t.slot * op.sums_stride : nullptr;
  for (int c = 0; c < m; c += kLanes) {
    const vf a = op.a ? load(op.a + c) : splat(1.0f), b = op.a ? load(op.b + c) : vf{};
    vf acc{};
    const float* v = base + c;
    float* d = dst + c;
    if (op.a) {
      for (int64_t r = 0; r < t.T; ++r, v += t.ld, d += st) {
        const vf x = act(load(v) * a + b, c);
        store(d, x);
        acc += x;
      }
    } else {
      for (int64_t r = 0; r < t.T; ++r, v += t.ld, d += st) {
        const vf x = act(load(v), c);
        store(d, x);
        acc += x;
      }
    }
    if (sums) store(sums + c, acc);
  }
}

// Calls f with the activation of `act` as a functor (vf x, int channel) -> vf.
template <class F>
bool with_vector_act(const Act& act, F f) {
  switch (act.kind) {
    case Act::None:
      f([](vf x, int) { return x; });
      return true;
    case Act::GELU:
      f([](vf x, int) { return gelu_vector(x); });
      return true;
    case Act::PReLU: {
      const float* slopes = act.slopes;
      f([slopes](vf x, int c) { return x > vf{} ? x : x * load(slopes + c); });
      return true;
    }
    case Act::Leaky: {
      const vf s = splat(act.slope);
      f([s](vf x, int) { return x > vf{} ? x : x * s; });
      return true;
    }
  }
  return false;
}

bool store_mapped_fused(const EpOp& op, const Tile& t, int m, const float* base, float* dst, int64_t st) {
  if (m % kLanes != 0) return false;
  return with_vector_act(op.act, [&](auto act) { store_mapped_vectors(op, t, m, base, dst, st, act); });
}

// Activate, then Store of the same columns, then (when sum is given) Sum of them, in one
// pass: the tile keeps the activated values for the ops after them, as it would.
bool activate_store_fused(const EpOp& act_op, const EpOp& store_op, const EpOp* sum_op, const Tile& t, int m,
                          float* base) {
  if (m % kLanes != 0 || act_op.act.kind == Act::None) return false;
  float* dst = store_op.view.base + t.n * store_op.view.sample + t.p0 * store_op.view.stride;
  const int64_t st = store_op.view.stride;
  float* sums = sum_op ? sum_op->sums + t.slot * sum_op->sums_stride : nullptr;
  return with_vector_act(act_op.act, [&](auto act) {
    for (int c = 0; c < m; c += kLanes) {
      vf acc{};
      float* v = base + c;
      float* d = dst + c;
      for (int64_t r = 0; r < t.T; ++r, v += t.ld, d += st) {
        const vf x = act(load(v), c);
        store(v, x);
        store(d, x);
        acc += x;
      }
      if (sums) store(sums + c, acc);
    }
  });
}
#endif

PMSDSEN_EP_OP(op_store_mapped) {
  float* dst = op.view.base + t.n * op.view.sample + t.p0 * op.view.stride;
  const int64_t st = op.view.stride;
  const float *a = op.a, *b = op.b;
#if defined(__AVX__)
  if (store_mapped_fused(op, t, m, base, dst, st)) return;
#endif
  // dst = v * a + b, then the activation and the sums over dst (one flat pass each when
  // dst is a whole tensor).
  for (int64_t r = 0; r < t.T; ++r) {
    const float* v = base + r * t.ld;
    float* d = dst + r * st;
    if (a) {
#pragma omp simd
      for (int c = 0; c < m; ++c) d[c] = v[c] * a[c] + b[c];
    } else {
#pragma omp simd
      for (int c = 0; c < m; ++c) d[c] = v[c];
    }
  }
  if (st == m && op.act.kind != Act::PReLU) {
    activate(dst, t.T * m, op.act, nullptr);
  } else {
    for (int64_t r = 0; r < t.T; ++r) activate(dst + r * st, m, op.act, op.act.slopes);
  }
  if (op.sums) {
    Tile d = t;
    d.v = dst;
    d.ld = st;
    column_sums(dst, d, m, st == m && m < kPattern && kPattern % m == 0, op.sums + t.slot * op.sums_stride);
  }
}

PMSDSEN_EP_OP(op_sum) { column_sums(base, t, m, flat_of(op, t).on, op.sums + t.slot * op.sums_stride); }

PMSDSEN_EP_OP(op_store_nchw) {
  float* dst = op.view.base + t.n * op.view.sample + t.p0;
  for (int c = 0; c < m; ++c) {
    float* d = dst + c * op.plane;
    const float* v = base + c;
    for (int64_t r = 0; r < t.T; ++r) d[r] = v[r * t.ld];
  }
}

PMSDSEN_EP_OP(op_add_resized) {
  (void)m, (void)base;
  add_resized(op, t);
}

}  // namespace

void run_epilogue(const EpOp* ops, int count, const Tile& t) {
  auto same_columns = [](const EpOp& a, const EpOp& b) { return a.c0 == b.c0 && a.c1 == b.c1; };
  for (int i = 0; i < count; ++i) {
    const EpOp& op = ops[i];
    const int m = op.c1 - op.c0;
    float* base = t.v + op.c0;
#if defined(__AVX__)
    if (op.kind == EpOp::Activate && i + 1 < count && ops[i + 1].kind == EpOp::Store && same_columns(op, ops[i + 1])) {
      const bool sum = i + 2 < count && ops[i + 2].kind == EpOp::Sum && same_columns(op, ops[i + 2]);
      if (activate_store_fused(op, ops[i + 1], sum ? &ops[i + 2] : nullptr, t, m, base)) {
        i += sum ? 2 : 1;
        continue;
      }
    }
#endif
    switch (op.kind) {
      case EpOp::Bias: op_bias(op, t, m, base); break;
      case EpOp::Affine: op_affine(op, t, m, base); break;
      case EpOp::ScaleNC:
      case EpOp::AddNC: op_nc(op, t, m, base); break;
      case EpOp::AddView: op_add_view(op, t, m, base); break;
      case EpOp::AddResized: op_add_resized(op, t, m, base); break;
      case EpOp::Activate: op_activate(op, t, m, base); break;
      case EpOp::Store: op_store(op, t, m, base); break;
      case EpOp::StoreMapped: op_store_mapped(op, t, m, base); break;
      case EpOp::Sum: op_sum(op, t, m, base); break;
      case EpOp::StoreNCHW: op_store_nchw(op, t, m, base); break;
    }
  }
}

}  // namespace pmsdsen::cpu::nhwc
