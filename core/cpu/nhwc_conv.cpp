// Dense convolutions of the plan over NHWC tiles: 1x1, 3x3 (stride 1 or 2) and the
// transposed 3x3/s2, all as register-blocked products. A micro-tile is MR output pixels
// x NV vectors of output channels held in registers; for every tap and input view it
// walks the input channels, broadcasting one input value per pixel against NV weight
// vectors (the weights of a column block stay in L1). Pixels outside the input read a
// zero row, so borders need no separate code.
#include <algorithm>
#include <array>
#include <utility>

#include "core/cpu/nhwc.h"
#include "core/cpu/nhwc_vec.h"
#include "core/error.h"

namespace pmsdsen::cpu::nhwc {
namespace {

constexpr int kMaxMR = micro_rows(1) > micro_rows(2) ? micro_rows(1) : micro_rows(2);
constexpr int kMaxChannels = 1024;
alignas(64) const float kZeros[kMaxChannels] = {};

// ---- 1x1: rows of one view are evenly spaced ---------------------------------------------
template <int MR, int NV>
void micro_1x1(const ConstView* in, int views, int64_t n, int64_t p, const float* w, int bw, float* out,
               int64_t ld) {
  vf acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NV; ++j) acc[i][j] = vf{};
  for (int v = 0; v < views; ++v) {
    const float* a = in[v].at(n, p);
    const int64_t s = in[v].stride;
    const int K = static_cast<int>(in[v].channels);
    for (int k = 0; k < K; ++k, w += bw) {
      vf wv[NV];
      for (int j = 0; j < NV; ++j) wv[j] = load(w + j * kLanes);
      for (int i = 0; i < MR; ++i) {
        const vf b = splat(a[i * s + k]);
        for (int j = 0; j < NV; ++j) acc[i][j] += b * wv[j];
      }
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NV; ++j) store(out + i * ld + j * kLanes, acc[i][j]);
}

// ---- gathered rows: one pointer per pixel and tap ----------------------------------------
struct Src {
  const float* w;  // weights of this tap and view: K rows of bw
  int K;
  const float* rows[kMaxMR];
};

template <int MR, int NV>
void micro_gather(const Src* src, int nsrc, int bw, float* out, int64_t ostep) {
  vf acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NV; ++j) acc[i][j] = vf{};
  for (int s = 0; s < nsrc; ++s) {
    const float* w = src[s].w;
    const float* r[MR];
    for (int i = 0; i < MR; ++i) r[i] = src[s].rows[i];
    const int K = src[s].K;
    for (int k = 0; k < K; ++k, w += bw) {
      vf wv[NV];
      for (int j = 0; j < NV; ++j) wv[j] = load(w + j * kLanes);
      for (int i = 0; i < MR; ++i) {
        const vf b = splat(r[i][k]);
        for (int j = 0; j < NV; ++j) acc[i][j] += b * wv[j];
      }
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NV; ++j) store(out + i * ostep + j * kLanes, acc[i][j]);
}

// Tables of the micro-kernels by row count (1 .. micro_rows(NV)).
using Fn1x1 = void (*)(const ConstView*, int, int64_t, int64_t, const float*, int, float*, int64_t);
using FnGather = void (*)(const Src*, int, int, float*, int64_t);

template <int NV, int... R>
constexpr std::array<Fn1x1, sizeof...(R)> table_1x1(std::integer_sequence<int, R...>) {
  return {&micro_1x1<R + 1, NV>...};
}
template <int NV, int... R>
constexpr std::array<FnGather, sizeof...(R)> table_gather(std::integer_sequence<int, R...>) {
  return {&micro_gather<R + 1, NV>...};
}
template <int NV>
Fn1x1 kernel_1x1(int rows) {
  static constexpr auto t = table_1x1<NV>(std::make_integer_sequence<int, micro_rows(NV)>{});
  return t[rows - 1];
}
template <int NV>
FnGather kernel_gather(int rows) {
  static constexpr auto t = table_gather<NV>(std::make_integer_sequence<int, micro_rows(NV)>{});
  return t[rows - 1];
}
Fn1x1 pick_1x1(int nv, int rows) {
  switch (nv) {
    case 1: return kernel_1x1<1>(rows);
    case 2: return kernel_1x1<2>(rows);
    case 3: return kernel_1x1<3>(rows);
    default: return kernel_1x1<4>(rows);
  }
}
FnGather pick_gather(int nv, int rows) {
  switch (nv) {
    case 1: return kernel_gather<1>(rows);
    case 2: return kernel_gather<2>(rows);
    case 3: return kernel_gather<3>(rows);
    default: return kernel_gather<4>(rows);
  }
}

}  // namespace

int vector_lanes() { return kLanes; }

void packed_geometry(int cout, int& cout_pad, int& bw) {
  const int v = (cout + kLanes - 1) / kLanes;
  int nv = v;
  if (v > kMaxNV) nv = v % 4 == 0 ? 4 : v % 3 == 0 ? 3 : v % 2 == 0 ? 2 : 1;
  cout_pad = v * kLanes;
  bw = nv * kLanes;
}

void pack_weights(const float* w, int64_t wsco, int64_t wsk, int64_t wst, Packed& p, float* out,
                  const float* in_scale, const float* out_scale) {
  PMSDSEN_CHECK(p.K > 0 && p.K <= kMaxChannels && p.cout > 0 && p.taps > 0, "nhwc::pack_weights: bad shape K ",
                p.K, ", cout ", p.cout, ", taps ", p.taps);
  packed_geometry(p.cout, p.cout_pad, p.bw);
  const int blocks = p.cout_pad / p.bw;
  float* o = out;
  for (int j = 0; j < blocks; ++j)
    for (int t = 0; t < p.taps; ++t)
      for (int k = 0; k < p.K; ++k)
        for (int col = 0; col < p.bw; ++col) {
          const int co = j * p.bw + col;
          float v = 0.0f;
          if (co < p.cout) {
            v = w[co * wsco + k * wsk + t * wst];
            if (in_scale) v *= in_scale[k];
            if (out_scale) v *= out_scale[co];
          }
          *o++ = v;
        }
  p.data = out;
}

void conv1x1_tile(const ConstView* in, int views, const Packed& w, int64_t n, int64_t p0, int64_t T, float* raw,
                  int64_t ld) {
  const int nv = w.bw / kLanes, mr = micro_rows(nv);
  const int blocks = w.cout_pad / w.bw;
  for (int j = 0; j < blocks; ++j) {
    const float* wb = w.data + j * w.block_elems();
    float* out = raw + j * w.bw;
    const Fn1x1 full = pick_1x1(nv, mr);
    int64_t r = 0;
    for (; r + mr <= T; r += mr) full(in, views, n, p0 + r, wb, w.bw, out + r * ld, ld);
    if (r < T) pick_1x1(nv, static_cast<int>(T - r))(in, views, n, p0 + r, wb, w.bw, out + r * ld, ld);
  }
}

namespace {

// K offset of each input view.
void view_offsets(const ConstView* in, int views, int* koff) {
  int k = 0;
  for (int v = 0; v < views; ++v) {
    koff[v] = k;
    k += static_cast<int>(in[v].channels);
  }
}

}  // namespace

void conv3x3_tile(const ConstView* in, int views, int64_t in_h, int64_t in_w, int stride, const Packed& w,
                  int64_t n, int64_t oy, int64_t ox0, int64_t T, float* raw, int64_t ld) {
  const int nv = w.bw / kLanes, mr = micro_rows(nv);
  const int blocks = w.cout_pad / w.bw;
  int koff[4];
  PMSDSEN_CHECK(views <= 4, "nhwc::conv3x3_tile: at most 4 input views");
  view_offsets(in, views, koff);
  Src src[9 * 4];
  for (int j = 0; j < blocks; ++j) {
    const float* wb = w.data + j * w.block_elems();
    for (int64_t r0 = 0; r0 < T; r0 += mr) {
      const int rows = static_cast<int>(std::min<int64_t>(mr, T - r0));
      int ns = 0;
      for (int ky = 0; ky < 3; ++ky) {
        const int64_t iy = oy * stride - 1 + ky;
        if (iy < 0 || iy >= in_h) continue;
        for (int kx = 0; kx < 3; ++kx) {
          const int t = ky * 3 + kx;
          int64_t pix[kMaxMR];
          bool any = false;
          for (int i = 0; i < rows; ++i) {
            const int64_t ix = (ox0 + r0 + i) * stride - 1 + kx;
            pix[i] = ix >= 0 && ix < in_w ? iy * in_w + ix : -1;
            any = any || pix[i] >= 0;
          }
          if (!any) continue;
          for (int v = 0; v < views; ++v) {
            Src& s = src[ns++];
            s.w = wb + (static_cast<int64_t>(t) * w.K + koff[v]) * w.bw;
            s.K = static_cast<int>(in[v].channels);
            for (int i = 0; i < rows; ++i) s.rows[i] = pix[i] >= 0 ? in[v].at(n, pix[i]) : kZeros;
          }
        }
      }
      pick_gather(nv, rows)(src, ns, w.bw, raw + r0 * ld + j * w.bw, ld);
    }
  }
}

void conv_transpose3x3_tile(const ConstView& in, int64_t in_h, int64_t in_w, const Packed& w, int64_t n,
                            int64_t oy, int64_t ox0, int64_t T, float* raw, int64_t ld) {
  const int nv = w.bw / kLanes, mr = micro_rows(nv);
  const int blocks = w.cout_pad / w.bw;
  // Output row oy = 2 iy - 1 + ky: even rows take ky = 1, odd rows ky = 0 and 2.
  int kys[2], iys[2], nrow = 0;
  if (oy % 2 == 0) {
    kys[nrow] = 1, iys[nrow++] = static_cast<int>(oy / 2);
  } else {
    if ((oy + 1) / 2 < in_h) kys[nrow] = 0, iys[nrow++] = static_cast<int>((oy + 1) / 2);
    kys[nrow] = 2, iys[nrow++] = static_cast<int>((oy - 1) / 2);
  }
  const int64_t half = T / 2, ix0 = ox0 / 2;
  Src src[4];
  for (int j = 0; j < blocks; ++j) {
    const float* wb = w.data + j * w.block_elems();
    for (int px = 0; px < 2; ++px) {
      for (int64_t i0 = 0; i0 < half; i0 += mr) {
        const int rows = static_cast<int>(std::min<int64_t>(mr, half - i0));
        int ns = 0;
        for (int a = 0; a < nrow; ++a) {
          // Columns: even outputs take kx = 1 (ix = i), odd ones kx = 0 (ix = i + 1) and 2 (ix = i).
          const int kxs[2] = {px == 0 ? 1 : 0, 2};
          const int shifts[2] = {px == 0 ? 0 : 1, 0};
          for (int b = 0; b < (px == 0 ? 1 : 2); ++b) {
            Src& s = src[ns];
            bool any = false;
            for (int i = 0; i < rows; ++i) {
              const int64_t ix = ix0 + i0 + i + shifts[b];
              const bool ok = ix < in_w;
              s.rows[i] = ok ? in.at(n, iys[a] * in_w + ix) : kZeros;
              any = any || ok;
            }
            if (!any) continue;
            s.w = wb + static_cast<int64_t>(kys[a] * 3 + kxs[b]) * w.K * w.bw;
            s.K = w.K;
            ++ns;
          }
        }
        pick_gather(nv, rows)(src, ns, w.bw, raw + (px + 2 * i0) * ld + j * w.bw, 2 * ld);
      }
    }
  }
}

}  // namespace pmsdsen::cpu::nhwc
