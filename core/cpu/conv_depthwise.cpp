// Depthwise 3x3 convolution, stride 1, any padding and dilation: direct loops over one
// (sample, channel) plane at a time, planes spread over threads. Each output row splits
// into an interior, where every horizontal tap is inside the image and the loop has no
// branches (it vectorises), and the few border columns, handled tap by tap.
#include <algorithm>
#include <vector>

#include "core/cpu/conv.h"
#include "core/parallel.h"

namespace pmsdsen::cpu {
namespace {

// Plane geometry: input in_h x in_w, output out_h x out_w, out[o] reads in[o - pad + k*dil].
struct Plane {
  int64_t in_h, in_w, out_h, out_w, pad, dil;
  // Interior columns [first, last): all three taps inside the row.
  int64_t first() const { return std::clamp<int64_t>(pad, 0, out_w); }
  int64_t last() const { return std::clamp<int64_t>(in_w + pad - 2 * dil, first(), out_w); }
  const void* row(const void* base, int64_t oy, int64_t ky, size_t elem) const {
    const int64_t iy = oy - pad + ky * dil;
    return iy >= 0 && iy < in_h ? static_cast<const char*>(base) + iy * in_w * elem : nullptr;
  }
};

// y[i] = b + sum over the three rows and taps; r* point at the input of output i = 0.
template <class T>
void row_all_taps(T* __restrict__ y, const T* __restrict__ r0, const T* __restrict__ r1,
                  const T* __restrict__ r2, const T* w, T b, int64_t n, int64_t d) {
  const T w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7],
          w8 = w[8];
  for (int64_t i = 0; i < n; ++i) {
    y[i] = b + w0 * r0[i] + w1 * r0[i + d] + w2 * r0[i + 2 * d] + w3 * r1[i] + w4 * r1[i + d] +
           w5 * r1[i + 2 * d] + w6 * r2[i] + w7 * r2[i + d] + w8 * r2[i + 2 * d];
  }
}

// y[i] += the three taps of one row.
template <class T>
void row_add_taps(T* __restrict__ y, const T* __restrict__ r, const T* w, int64_t n, int64_t d) {
  const T w0 = w[0], w1 = w[1], w2 = w[2];
  for (int64_t i = 0; i < n; ++i) y[i] += w0 * r[i] + w1 * r[i + d] + w2 * r[i + 2 * d];
}

// One plane of y = depthwise(x, w) + b (w: 9 taps, row-major).
template <class T>
void forward_plane(const Plane& g, const T* x, const T* w, T b, T* y) {
  const int64_t first = g.first(), last = g.last(), n = last - first;
  for (int64_t oy = 0; oy < g.out_h; ++oy) {
    T* yr = y + oy * g.out_w;
    const T* r[3];
    for (int ky = 0; ky < 3; ++ky) r[ky] = static_cast<const T*>(g.row(x, oy, ky, sizeof(T)));
    const int64_t base = first - g.pad;  // input column of output `first`, tap 0
    if (n == 0) {
      // no interior (a map narrower than the kernel's reach)
    } else if (r[0] && r[1] && r[2]) {
      row_all_taps(yr + first, r[0] + base, r[1] + base, r[2] + base, w, b, n, g.dil);
    } else {
      std::fill(yr + first, yr + last, b);
      for (int ky = 0; ky < 3; ++ky)
        if (r[ky]) row_add_taps(yr + first, r[ky] + base, w + 3 * ky, n, g.dil);
    }
    auto border = [&](int64_t ox) {
      T acc = b;
      for (int ky = 0; ky < 3; ++ky) {
        if (!r[ky]) continue;
        for (int kx = 0; kx < 3; ++kx) {
          const int64_t ix = ox - g.pad + kx * g.dil;
          if (ix >= 0 && ix < g.in_w) acc += w[3 * ky + kx] * r[ky][ix];
        }
      }
      yr[ox] = acc;
    };
    for (int64_t ox = 0; ox < first; ++ox) border(ox);
    for (int64_t ox = last; ox < g.out_w; ++ox) border(ox);
  }
}

// One plane's contribution to the 9 weight gradients: sums[t] += sum gy * x(tap t).
template <class T>
void weight_grad_plane(const Plane& g, const T* gy, const T* x, double* sums) {
  const int64_t first = g.first(), last = g.last();
  const int64_t d = g.dil;
  for (int64_t oy = 0; oy < g.out_h; ++oy) {
    const T* gr = gy + oy * g.out_w;
    for (int ky = 0; ky < 3; ++ky) {
      const T* r = static_cast<const T*>(g.row(x, oy, ky, sizeof(T)));
      if (!r) continue;
      const int64_t n = last - first;
      const T* rb = n > 0 ? r + (first - g.pad) : r;
      const T* gb = gr + first;
      T s0 = T(0), s1 = T(0), s2 = T(0);
#pragma omp simd reduction(+ : s0, s1, s2)
      for (int64_t i = 0; i < n; ++i) {
        s0 += gb[i] * rb[i];
        s1 += gb[i] * rb[i + d];
        s2 += gb[i] * rb[i + 2 * d];
      }
      double* st = sums + 3 * ky;
      st[0] += s0;
      st[1] += s1;
      st[2] += s2;
      auto border = [&](int64_t ox) {
        for (int kx = 0; kx < 3; ++kx) {
          const int64_t ix = ox - g.pad + kx * d;
          if (ix >= 0 && ix < g.in_w) st[kx] += static_cast<double>(gr[ox]) * r[ix];
        }
      };
      for (int64_t ox = 0; ox < first; ++ox) border(ox);
      for (int64_t ox = last; ox < g.out_w; ++ox) border(ox);
    }
  }
}

}  // namespace

template <class T>
void depthwise3x3_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  const Plane g{s.in_h, s.in_w, s.out_h, s.out_w, s.padding, s.dilation};
  const int64_t C = s.in_channels;
  parallel_for(0, s.batch * C, [&](int64_t p) {
    const int64_t c = p % C;
    forward_plane(g, x + p * s.in_plane(), w + 9 * c, bias ? bias[c] : T(0), y + p * s.out_plane());
  }, grain_for(9 * s.out_plane()));
}

// gx[i] = sum_t w[t] gy[i + pad - k*dil]: the forward kernel with the taps reversed,
// padding 2*dil - pad, from the output plane back to the input plane.
template <class T>
void depthwise3x3_backward_input(const ConvShape& s, const T* gy, const T* w, T* gx) {
  const Plane g{s.out_h, s.out_w, s.in_h, s.in_w, 2 * s.dilation - s.padding, s.dilation};
  const int64_t C = s.in_channels;
  parallel_for(0, s.batch * C, [&](int64_t p) {
    const int64_t c = p % C;
    T flipped[9];
    for (int t = 0; t < 9; ++t) flipped[t] = w[9 * c + 8 - t];
    forward_plane(g, gy + p * s.out_plane(), flipped, T(0), gx + p * s.in_plane());
  }, grain_for(9 * s.in_plane()));
}

// Per-plane sums in parallel, then a sum over the batch in a fixed order per channel.
template <class T>
void depthwise3x3_backward_weight(const ConvShape& s, const T* gy, const T* x, T* gw) {
  const Plane g{s.in_h, s.in_w, s.out_h, s.out_w, s.padding, s.dilation};
  const int64_t C = s.in_channels;
  std::vector<double> partial(static_cast<size_t>(s.batch * C * 9), 0.0);
  parallel_for(0, s.batch * C, [&](int64_t p) {
    weight_grad_plane(g, gy + p * s.out_plane(), x + p * s.in_plane(), partial.data() + 9 * p);
  }, grain_for(9 * s.out_plane()));
  for (int64_t c = 0; c < C; ++c) {
    for (int t = 0; t < 9; ++t) {
      double acc = 0.0;
      for (int64_t n = 0; n < s.batch; ++n) acc += partial[static_cast<size_t>((n * C + c) * 9 + t)];
      gw[9 * c + t] = static_cast<T>(acc);
    }
  }
}

#define PMSDSEN_INSTANTIATE(T)                                                                     \
  template void depthwise3x3_forward<T>(const ConvShape&, const T*, const T*, const T*, T*);       \
  template void depthwise3x3_backward_input<T>(const ConvShape&, const T*, const T*, T*);          \
  template void depthwise3x3_backward_weight<T>(const ConvShape&, const T*, const T*, T*);
PMSDSEN_INSTANTIATE(float)
PMSDSEN_INSTANTIATE(double)
#undef PMSDSEN_INSTANTIATE

}  // namespace pmsdsen::cpu
