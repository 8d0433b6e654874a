#include "core/cpu/conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/cpu/gemm.h"
#include "core/parallel.h"

namespace pmsdsen::cpu {
namespace {

// The outputs t in [0, m) of a run x0 + t*stride that fall inside [0, len): [first, last).
inline Range run_inside(int64_t x0, int64_t stride, int64_t m, int64_t len) {
  int64_t first = x0 < 0 ? (-x0 + stride - 1) / stride : 0;
  int64_t last = x0 < len ? (len - x0 + stride - 1) / stride : 0;
  first = std::min(first, m);
  last = std::max(first, std::min(last, m));
  return {first, last};
}

// dst[t * step] = row[x0 + t * stride] for t in [0, m), zero outside [0, len). row may be
// null (the whole run is padding).
template <class T>
inline void copy_run(const T* row, int64_t x0, int64_t stride, int64_t m, int64_t len, T* dst,
                     int64_t step) {
  if (row == nullptr) {
    for (int64_t t = 0; t < m; ++t) dst[t * step] = T(0);
    return;
  }
  const Range in = run_inside(x0, stride, m, len);
  for (int64_t t = 0; t < in.first; ++t) dst[t * step] = T(0);
  if (step == 1 && stride == 1) {
    std::memcpy(dst + in.first, row + (x0 + in.first), sizeof(T) * (in.last - in.first));
  } else {
    for (int64_t t = in.first; t < in.last; ++t) dst[t * step] = row[x0 + t * stride];
  }
  for (int64_t t = in.last; t < m; ++t) dst[t * step] = T(0);
}

// Calls f(oy, ox, offset, m) for the runs of output pixels [p0, p0 + count) that stay on
// one output row: pixels p0 + offset .. p0 + offset + m - 1 are (oy, ox .. ox + m - 1).
template <class F>
inline void for_each_row_run(const ConvShape& s, int64_t p0, int64_t count, F&& f) {
  int64_t oy = p0 / s.out_w, ox = p0 % s.out_w;
  for (int64_t done = 0; done < count;) {
    const int64_t m = std::min(s.out_w - ox, count - done);
    f(oy, ox, done, m);
    done += m;
    ox = 0;
    ++oy;
  }
}

// Decodes column-matrix row r into (channel, ky, kx).
struct Tap {
  int64_t c, ky, kx;
};
inline Tap decode_row(const ConvShape& s, int64_t r) {
  const int64_t t = r % s.taps();
  return {r / s.taps(), t / s.kernel_w, t % s.kernel_w};
}

// Packs B = col (rows: taps, columns: output pixels) straight from the image.
template <class T>
void pack_col(const ConvShape& s, const T* x, int64_t k0, int64_t kc, int64_t j0, int64_t nc,
              T* out) {
  const int64_t W = gemm_panel_width<T>();
  for (int64_t k = 0; k < kc; ++k) {
    const Tap tap = decode_row(s, k0 + k);
    const T* xc = x + tap.c * s.in_plane();
    for (int64_t jj = 0; jj < nc;) {  // one stretch of a panel row at a time
      const int64_t lane = jj % W;
      T* dst = out + (jj / W) * W * kc + k * W + lane;
      const int64_t m = std::min(W - lane, nc - jj);
      if (s.is_pointwise()) {
        std::memcpy(dst, xc + j0 + jj, sizeof(T) * m);
      } else {
        for_each_row_run(s, j0 + jj, m, [&](int64_t oy, int64_t ox, int64_t off, int64_t len) {
          const int64_t iy = conv_in_coord(oy, tap.ky, s.stride, s.padding, s.dilation);
          const T* row = iy >= 0 && iy < s.in_h ? xc + iy * s.in_w : nullptr;
          copy_run(row, conv_in_coord(ox, tap.kx, s.stride, s.padding, s.dilation), s.stride, len,
                   s.in_w, dst + off, int64_t{1});
        });
      }
      jj += m;
    }
  }
  if (nc % W != 0) {
    T* last = out + (nc / W) * W * kc;
    for (int64_t k = 0; k < kc; ++k)
      for (int64_t c = nc % W; c < W; ++c) last[k * W + c] = T(0);
  }
}

// Packs B = col^T (rows: output pixels, columns: taps) straight from the image.
template <class T>
void pack_col_transposed(const ConvShape& s, const T* x, int64_t k0, int64_t kc, int64_t j0,
                         int64_t nc, T* out) {
  const int64_t W = gemm_panel_width<T>();
  const int64_t panels = (nc + W - 1) / W;
  for (int64_t c = 0; c < panels * W; ++c) {
    T* dst = out + (c / W) * W * kc + c % W;  // element k at dst[k * W]
    if (c >= nc) {
      for (int64_t k = 0; k < kc; ++k) dst[k * W] = T(0);
      continue;
    }
    const Tap tap = decode_row(s, j0 + c);
    const T* xc = x + tap.c * s.in_plane();
    if (s.is_pointwise()) {
      for (int64_t k = 0; k < kc; ++k) dst[k * W] = xc[k0 + k];
      continue;
    }
    for_each_row_run(s, k0, kc, [&](int64_t oy, int64_t ox, int64_t off, int64_t len) {
      const int64_t iy = conv_in_coord(oy, tap.ky, s.stride, s.padding, s.dilation);
      const T* row = iy >= 0 && iy < s.in_h ? xc + iy * s.in_w : nullptr;
      copy_run(row, conv_in_coord(ox, tap.kx, s.stride, s.padding, s.dilation), s.stride, len,
               s.in_w, dst + off * W, W);
    });
  }
}

// Pointers to sample n, group g.
template <class T>
const T* in_group(const ConvShape& s, const T* x, int64_t n, int64_t g) {
  return x + (n * s.in_channels + g * s.cin_g()) * s.in_plane();
}
template <class T>
T* out_group(const ConvShape& s, T* y, int64_t n, int64_t g) {
  return y + (n * s.out_channels + g * s.cout_g()) * s.out_plane();
}

}  // namespace

template <class T>
void conv2d_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  if (s.is_depthwise3x3()) return depthwise3x3_forward(s, x, w, bias, y);
  const int64_t M = s.cout_g(), N = s.out_plane(), K = s.col_rows();
  for (int64_t n = 0; n < s.batch; ++n) {
    for (int64_t g = 0; g < s.groups; ++g) {
      const T* xg = in_group(s, x, n, g);
      const PackB<T> pack = [&](int64_t k0, int64_t kc, int64_t j0, int64_t nc, T* out) {
        pack_col(s, xg, k0, kc, j0, nc, out);
      };
      gemm_packed_b<T>(false, M, N, K, T(1), w + g * M * K, K, pack, T(0),
                       bias ? bias + g * M : nullptr, out_group(s, y, n, g), N);
    }
  }
}

template <class T>
void conv2d_backward_input(const ConvShape& s, const T* gy, const T* w, T* gx) {
  if (s.is_depthwise3x3()) return depthwise3x3_backward_input(s, gy, w, gx);
  const int64_t k = s.kernel_h, reach = s.dilation * (k - 1);
  if (s.stride == 1 && s.kernel_w == k && s.padding <= reach) {
    // Stride 1: gx is a convolution of gy with the flipped kernel, channels swapped
    // within each group, padding dilation * (k - 1) - padding.
    ConvShape t = s;
    t.in_channels = s.out_channels;
    t.in_h = s.out_h;
    t.in_w = s.out_w;
    t.out_channels = s.in_channels;
    t.out_h = s.in_h;
    t.out_w = s.in_w;
    t.padding = reach - s.padding;
    const int64_t cin_g = s.cin_g(), cout_g = s.cout_g(), taps = s.taps();
    std::vector<T> flipped(static_cast<size_t>(s.weight_numel()));
    for (int64_t g = 0; g < s.groups; ++g)
      for (int64_t co = 0; co < cout_g; ++co)
        for (int64_t ci = 0; ci < cin_g; ++ci)
          for (int64_t tap = 0; tap < taps; ++tap)
            flipped[static_cast<size_t>(((g * cin_g + ci) * cout_g + co) * taps + taps - 1 - tap)] =
                w[((g * cout_g + co) * cin_g + ci) * taps + tap];
    return conv2d_forward<T>(t, gy, flipped.data(), nullptr, gx);
  }
  // General case: col = w_g^T gy_g, then scatter the columns back into the image.
  const int64_t rows = s.col_rows(), plane = s.out_plane(), cout_g = s.cout_g();
  std::vector<T> col(static_cast<size_t>(rows * plane));
  for (int64_t n = 0; n < s.batch; ++n) {
    for (int64_t g = 0; g < s.groups; ++g) {
      gemm<T>(true, false, rows, plane, cout_g, T(1), w + g * cout_g * rows, rows,
              out_group(s, gy, n, g), plane, T(0), col.data(), plane);
      col2im(s, col.data(), gx + (n * s.in_channels + g * s.cin_g()) * s.in_plane());
    }
  }
}

template <class T>
void conv2d_backward_weight(const ConvShape& s, const T* gy, const T* x, T* gw) {
  if (s.is_depthwise3x3()) return depthwise3x3_backward_weight(s, gy, x, gw);
  if (s.batch == 0) return std::fill(gw, gw + s.weight_numel(), T(0));
  const int64_t M = s.cout_g(), N = s.col_rows(), K = s.out_plane();
  for (int64_t n = 0; n < s.batch; ++n) {
    for (int64_t g = 0; g < s.groups; ++g) {
      const T* xg = in_group(s, x, n, g);
      const PackB<T> pack = [&](int64_t k0, int64_t kc, int64_t j0, int64_t nc, T* out) {
        pack_col_transposed(s, xg, k0, kc, j0, nc, out);
      };
      gemm_packed_b<T>(false, M, N, K, T(1), out_group(s, gy, n, g), K, pack, n == 0 ? T(0) : T(1),
                       nullptr, gw + g * M * N, N);
    }
  }
}

template <class T>
void conv_add_bias(T* y, const T* bias, int64_t batch, int64_t channels, int64_t plane) {
  parallel_for(0, batch * channels, [&](int64_t p) {
    const T b = bias[p % channels];
    T* yp = y + p * plane;
    for (int64_t i = 0; i < plane; ++i) yp[i] += b;
  });
}

template <class T>
void conv_bias_backward(const T* gy, int64_t batch, int64_t channels, int64_t plane, T* gb) {
  std::vector<double> sums(static_cast<size_t>(batch * channels));
  parallel_for(0, batch * channels, [&](int64_t p) {
    const T* g = gy + p * plane;
    double acc = 0.0;
#pragma omp simd reduction(+ : acc)
    for (int64_t i = 0; i < plane; ++i) acc += g[i];
    sums[static_cast<size_t>(p)] = acc;
  });
  for (int64_t c = 0; c < channels; ++c) {
    double acc = 0.0;
    for (int64_t n = 0; n < batch; ++n) acc += sums[static_cast<size_t>(n * channels + c)];
    gb[c] = static_cast<T>(acc);
  }
}

template <class T>
void im2col(const ConvShape& s, const T* x, T* col) {
  const int64_t plane = s.out_plane();
  parallel_for(0, s.col_rows(), [&](int64_t r) {
    const Tap tap = decode_row(s, r);
    const T* xc = x + tap.c * s.in_plane();
    for_each_row_run(s, 0, plane, [&](int64_t oy, int64_t ox, int64_t off, int64_t len) {
      const int64_t iy = conv_in_coord(oy, tap.ky, s.stride, s.padding, s.dilation);
      copy_run(iy >= 0 && iy < s.in_h ? xc + iy * s.in_w : nullptr,
               conv_in_coord(ox, tap.kx, s.stride, s.padding, s.dilation), s.stride, len, s.in_w,
               col + r * plane + off, int64_t{1});
    });
  });
}

template <class T>
void col2im(const ConvShape& s, const T* col, T* x) {
  const int64_t plane = s.out_plane();
  parallel_for(0, s.cin_g(), [&](int64_t c) {
    T* xc = x + c * s.in_plane();
    std::fill(xc, xc + s.in_plane(), T(0));
    for (int64_t ky = 0; ky < s.kernel_h; ++ky) {
      for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
        const T* cr = col + ((c * s.kernel_h + ky) * s.kernel_w + kx) * plane;
        const int64_t x0 = conv_in_coord(0, kx, s.stride, s.padding, s.dilation);
        const Range in = run_inside(x0, s.stride, s.out_w, s.in_w);
        for (int64_t oy = 0; oy < s.out_h; ++oy) {
          const int64_t iy = conv_in_coord(oy, ky, s.stride, s.padding, s.dilation);
          if (iy < 0 || iy >= s.in_h) continue;
          T* row = xc + iy * s.in_w;
          const T* src = cr + oy * s.out_w;
          for (int64_t ox = in.first; ox < in.last; ++ox) row[x0 + ox * s.stride] += src[ox];
        }
      }
    }
  });
}

template <class T>
void channel_conv1d_forward(const T* x, const T* w, T* y, int64_t batch, int64_t channels, int64_t k) {
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c)
      y[n * channels + c] = channel_conv_at(x + n * channels, w, channels, k, c);
}

template <class T>
void channel_conv1d_backward_input(const T* gy, const T* w, T* gx, int64_t batch, int64_t channels,
                                   int64_t k) {
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c)
      gx[n * channels + c] = channel_conv_grad_input_at(gy + n * channels, w, channels, k, c);
}

template <class T>
void channel_conv1d_backward_weight(const T* gy, const T* x, T* gw, int64_t batch, int64_t channels,
                                    int64_t k) {
  const int64_t pad = (k - 1) / 2;
  for (int64_t t = 0; t < k; ++t) {
    double acc = 0.0;
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t c = std::max<int64_t>(0, pad - t); c < std::min(channels, channels + pad - t); ++c)
        acc += static_cast<double>(gy[n * channels + c]) * x[n * channels + c - pad + t];
    gw[t] = static_cast<T>(acc);
  }
}

#define PMSDSEN_INSTANTIATE(T)                                                                   \
  template void conv2d_forward<T>(const ConvShape&, const T*, const T*, const T*, T*);           \
  template void conv2d_backward_input<T>(const ConvShape&, const T*, const T*, T*);              \
  template void conv2d_backward_weight<T>(const ConvShape&, const T*, const T*, T*);             \
  template void conv_add_bias<T>(T*, const T*, int64_t, int64_t, int64_t);                      \
  template void conv_bias_backward<T>(const T*, int64_t, int64_t, int64_t, T*);                  \
  template void im2col<T>(const ConvShape&, const T*, T*);                                       \
  template void col2im<T>(const ConvShape&, const T*, T*);                                       \
  template void channel_conv1d_forward<T>(const T*, const T*, T*, int64_t, int64_t, int64_t);    \
  template void channel_conv1d_backward_input<T>(const T*, const T*, T*, int64_t, int64_t,       \
                                                 int64_t);                                       \
  template void channel_conv1d_backward_weight<T>(const T*, const T*, T*, int64_t, int64_t, int64_t);
PMSDSEN_INSTANTIATE(float)
PMSDSEN_INSTANTIATE(double)
#undef PMSDSEN_INSTANTIATE

}  // namespace pmsdsen::cpu
