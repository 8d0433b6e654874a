// The plan's other NHWC kernels: depthwise 3x3 rows, pooling rows, the layout change at
// the input and the bilinear upsampling of the outputs.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/cpu/nhwc.h"
#include "core/cpu/nhwc_vec.h"
#include "core/cpu/resize.h"
#include "core/pool_math.h"
#include "core/resize_math.h"

namespace pmsdsen::cpu::nhwc {

// ---- depthwise 3x3 --------------------------------------------------------------------
// A row of a compact NHWC map is one run of w * C floats, and tap (ky, kx) of element e
// reads element e + (kx - 1) * dilation * C of input row oy + (ky - 1) * dilation. So the
// interior of a row is a 1-D stencil over vectors whose per-lane weights repeat every
// `period` vectors (lane l of vector q belongs to channel (q * lanes + l) mod C).

int depthwise_period(int channels) {
  int p = 1;
  while ((p * kLanes) % channels != 0) ++p;
  return p;
}

void depthwise_pattern(const float* w, const float* bias, int C, float* wpat, float* bpat) {
  const int period = depthwise_period(C);
  for (int ph = 0; ph < period; ++ph)
    for (int l = 0; l < kLanes; ++l) {
      const int c = (ph * kLanes + l) % C;
      for (int t = 0; t < 9; ++t) wpat[(t * period + ph) * kLanes + l] = w[c * 9 + t];
      bpat[ph * kLanes + l] = bias ? bias[c] : 0.0f;
    }
}

void depthwise3x3_row(const ConstView& in, int64_t h, int64_t w, int d, const float* wpat, const float* bpat,
                      const float* w9, const float* bias, int64_t n, int64_t oy, float* raw) {
  const int64_t C = in.channels;
  const int period = depthwise_period(static_cast<int>(C));
  const float* rows[3];
  for (int ky = 0; ky < 3; ++ky) {
    const int64_t iy = oy + (ky - 1) * d;
    rows[ky] = iy >= 0 && iy < h ? in.at(n, iy * w) : nullptr;
  }
  // Interior pixels [d, w - d): every horizontal tap inside the row.
  const int64_t x0 = std::min<int64_t>(d, w), x1 = std::max<int64_t>(x0, w - d);
  const int64_t e0 = x0 * C, e1 = x1 * C;
  const int64_t shift = static_cast<int64_t>(d) * C;
  // The rows inside the image, and their weights: the loop below has no tests.
  const float* in_rows[3];
  int ky_of[3], nrows = 0;
  for (int ky = 0; ky < 3; ++ky)
    if (rows[ky]) in_rows[nrows] = rows[ky], ky_of[nrows++] = ky;
  int64_t e = e0;
  int ph = 0;
  const int64_t pl = static_cast<int64_t>(period) * kLanes;
  auto taps = [&](int i, int64_t at, int phase) {
    const float* r = in_rows[i] + at;
    const float* wp = wpat + (ky_of[i] * 3 * period + phase) * kLanes;
    return load(wp) * load(r - shift) + load(wp + pl) * load(r) + load(wp + 2 * pl) * load(r + shift);
  };
  if (nrows == 3) {
    for (; e + kLanes <= e1; e += kLanes) {
      const vf a = taps(0, e, ph), b = taps(1, e, ph), c = taps(2, e, ph);
      store(raw + e, load(bpat + ph * kLanes) + (a + b) + c);
      if (++ph == period) ph = 0;
    }
  } else {
    for (; e + kLanes <= e1; e += kLanes) {
      vf acc = load(bpat + ph * kLanes);
      for (int i = 0; i < nrows; ++i) acc += taps(i, e, ph);
      store(raw + e, acc);
      if (++ph == period) ph = 0;
    }
  }
  // The rest element by element: the interior's tail and the border pixels.
  auto element = [&](int64_t idx) {
    const int64_t x = idx / C, c = idx % C;
    float acc = bias ? bias[c] : 0.0f;
    for (int ky = 0; ky < 3; ++ky) {
      const float* r = rows[ky];
      if (!r) continue;
      for (int kx = 0; kx < 3; ++kx) {
        const int64_t ix = x + (kx - 1) * d;
        if (ix >= 0 && ix < w) acc += w9[c * 9 + ky * 3 + kx] * r[ix * C + c];
      }
    }
    raw[idx] = acc;
  };
  for (int64_t i = 0; i < e0; ++i) element(i);
  for (int64_t i = e; i < w * C; ++i) element(i);
}

// ---- pooling --------------------------------------------------------------------------

constexpr int64_t kMaxPoolChannels = 1024;  // the plan checks its maps against this

namespace {

// One output pixel of a pool over CC channels known at compile time (the 3-channel image).
template <int CC>
void pool_pixel_fixed(const ConstView& in, int64_t w, int ys, int ye, int xs, int xe, int div, int mys, int mye,
                      int mxs, int mxe, PoolMode mode, int64_t n, float* out) {
  float acc[CC] = {}, best[CC];
  if (mode != PoolMode::Max) {
    for (int y = ys; y < ye; ++y)
      for (int x = xs; x < xe; ++x) {
        const float* src = in.at(n, int64_t(y) * w + x);
        for (int c = 0; c < CC; ++c) acc[c] += src[c];
      }
    for (int c = 0; c < CC; ++c) acc[c] = acc[c] / static_cast<float>(div);
  }
  if (mode != PoolMode::Avg) {
    for (int c = 0; c < CC; ++c) best[c] = -std::numeric_limits<float>::infinity();
    for (int y = mys; y < mye; ++y)
      for (int x = mxs; x < mxe; ++x) {
        const float* src = in.at(n, int64_t(y) * w + x);
        for (int c = 0; c < CC; ++c)
          if (src[c] > best[c] || src[c] != src[c]) best[c] = src[c];
      }
  }
  for (int c = 0; c < CC; ++c)
    out[c] = mode == PoolMode::Avg ? acc[c] : mode == PoolMode::Max ? best[c] : acc[c] + best[c];
}

}  // namespace

void pool_row(const ConstView& in, int64_t h, int64_t w, int64_t oh, int64_t ow, int k, int s, int p, PoolMode mode,
              int64_t n, int64_t oy, float* raw, int64_t ld) {
  (void)oh;
  const int64_t C = in.channels;
  int ys, ye, ydiv, mys, mye;
  hd::avg_pool_window(static_cast<int>(oy), k, s, p, static_cast<int>(h), ys, ye, ydiv);
  hd::max_pool_window(static_cast<int>(oy), k, s, p, static_cast<int>(h), mys, mye);
  for (int64_t ox = 0; ox < ow; ++ox) {
    int xs, xe, xdiv, mxs, mxe;
    hd::avg_pool_window(static_cast<int>(ox), k, s, p, static_cast<int>(w), xs, xe, xdiv);
    hd::max_pool_window(static_cast<int>(ox), k, s, p, static_cast<int>(w), mxs, mxe);
    float* out = raw + ox * ld;
    if (C == 3) {
      pool_pixel_fixed<3>(in, w, ys, ye, xs, xe, ydiv * xdiv, mys, mye, mxs, mxe, mode, n, out);
      continue;
    }
    if (mode != PoolMode::Max) {
      for (int64_t c = 0; c < C; ++c) out[c] = 0.0f;
      for (int y = ys; y < ye; ++y)
        for (int x = xs; x < xe; ++x) {
          const float* src = in.at(n, int64_t(y) * w + x);
#pragma omp simd
          for (int64_t c = 0; c < C; ++c) out[c] += src[c];
        }
      const float div = static_cast<float>(ydiv * xdiv);
      for (int64_t c = 0; c < C; ++c) out[c] = out[c] / div;
    }
    if (mode != PoolMode::Avg) {
      float best[kMaxPoolChannels];
      const int64_t cc = std::min<int64_t>(C, kMaxPoolChannels);
      for (int64_t c = 0; c < cc; ++c) best[c] = -std::numeric_limits<float>::infinity();
      for (int y = mys; y < mye; ++y)
        for (int x = mxs; x < mxe; ++x) {
          const float* src = in.at(n, int64_t(y) * w + x);
          for (int64_t c = 0; c < cc; ++c) {
            const float v = src[c];
            if (v > best[c] || v != v) best[c] = v;
          }
        }
      if (mode == PoolMode::Max) {
        for (int64_t c = 0; c < cc; ++c) out[c] = best[c];
      } else {
        for (int64_t c = 0; c < cc; ++c) out[c] += best[c];
      }
    }
  }
}

// ---- layouts and resizing -------------------------------------------------------------

void nchw_to_tile(const float* x, int64_t C, int64_t P, int64_t n, int64_t p0, int64_t T, float* raw, int64_t ld) {
  for (int64_t c = 0; c < C; ++c) {
    const float* src = x + (n * C + c) * P + p0;
    for (int64_t r = 0; r < T; ++r) raw[r * ld + c] = src[r];
  }
}

void bilinear_axis(BilinearAxis& a) {
  a.ratio = hd::bilinear_ratio<float>(a.in, a.out, false, 0.0);
  for (int d = 0; d < a.out; ++d) hd::bilinear_source(a.ratio, d, a.in, false, a.i0[d], a.i1[d], a.l0[d], a.l1[d]);
}

void bilinear_nchw_rows(const float* x, float* y, const BilinearAxis& ah, const BilinearAxis& aw, int64_t r0,
                        int64_t r1) {
  const int H = ah.in, W = aw.in, OH = ah.out, OW = aw.out;
  for (int64_t row = r0; row < r1; ++row) {
    const int64_t plane = row / OH;
    const int oh = static_cast<int>(row % OH);
    bilinear_row(x + (plane * H + ah.i0[oh]) * W, x + (plane * H + ah.i1[oh]) * W, ah.l0[oh], ah.l1[oh], aw.i0,
                 aw.i1, aw.l0, aw.l1, OW, y + row * OW);
  }
}

}  // namespace pmsdsen::cpu::nhwc
