#include "core/cpu/conv.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/cpu/activation.h"
#include "core/cpu/vec_math.h"
#include "core/activation_math.h"
#include "core/cpu/gemm.h"
#include "core/error.h"
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

// Decodes column-matrix row r into (channel, ky, kx).
struct Tap {
  int64_t c, ky, kx;
};
inline Tap decode_row(const ConvShape& s, int64_t r) {
  const int64_t t = r % s.taps();
  return {r / s.taps(), t / s.kernel_w, t % s.kernel_w};
}

// The packed layout of gemm_packed_b: block column jj of row k lives at
// base[(jj / W) * W * kc + jj % W] with base = out + k * W. Writes n values of a run
// starting at block column jj: src[i * stride], or zeros when src is null.
template <class T, int W>
inline void put_run(T* base, int64_t kc, int64_t jj, const T* src, int64_t stride, int64_t n) {
  while (n > 0) {
    const int64_t lane = jj % W, m = std::min<int64_t>(W - lane, n);
    T* __restrict__ d = base + (jj / W) * (W * kc) + lane;
    if (src == nullptr) {
      for (int64_t i = 0; i < m; ++i) d[i] = T(0);
    } else if (stride == 1) {
      for (int64_t i = 0; i < m; ++i) d[i] = src[i];
      src += m;
    } else {
      for (int64_t i = 0; i < m; ++i) d[i] = src[i * stride];
      src += m * stride;
    }
    jj += m;
    n -= m;
  }
}

// n values src[i * stride] (zeros when src is null) to dst[i * step].
template <class T>
inline void put_strided(T* dst, int64_t step, const T* src, int64_t stride, int64_t n) {
  if (src == nullptr) {
    for (int64_t i = 0; i < n; ++i) dst[i * step] = T(0);
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i * step] = src[i * stride];
  }
}

// Walks output pixels [p0, p0 + count) one output row at a time and, for tap (ky, kx)
// of channel plane xc, calls emit(offset, src, stride, n) for the zero / copied / zero
// parts of each row: pixels p0 + offset .. + n - 1 read src[i * stride] (null: padding).
template <class T, class Emit>
inline void for_each_tap_run(const ConvShape& s, const T* xc, const Tap& tap, int64_t p0,
                             int64_t count, Emit&& emit) {
  const int64_t x0 = conv_in_coord(0, tap.kx, s.stride, s.padding, s.dilation);
  const Range inside = run_inside(x0, s.stride, s.out_w, s.in_w);  // the same on every row
  int64_t oy = p0 / s.out_w, ox = p0 % s.out_w;
  for (int64_t done = 0; done < count; ox = 0, ++oy) {
    const int64_t n = std::min(s.out_w - ox, count - done);
    const int64_t iy = conv_in_coord(oy, tap.ky, s.stride, s.padding, s.dilation);
    if (iy < 0 || iy >= s.in_h) {
      emit(done, static_cast<const T*>(nullptr), int64_t{1}, n);
    } else {
      const T* row = xc + iy * s.in_w;
      const int64_t a = std::clamp(inside.first, ox, ox + n), b = std::clamp(inside.last, a, ox + n);
      if (a > ox) emit(done, static_cast<const T*>(nullptr), int64_t{1}, a - ox);
      if (b > a) emit(done + (a - ox), row + (x0 + a * s.stride), s.stride, b - a);
      if (ox + n > b) emit(done + (b - ox), static_cast<const T*>(nullptr), int64_t{1}, ox + n - b);
    }
    done += n;
  }
}

// Packs B = col (rows: taps, columns: output pixels) straight from the image.
template <class T, int W>
void pack_col(const ConvShape& s, const T* x, int64_t k0, int64_t kc, int64_t j0, int64_t nc,
              T* out) {
  for (int64_t k = 0; k < kc; ++k) {
    const Tap tap = decode_row(s, k0 + k);
    const T* xc = x + tap.c * s.in_plane();
    T* base = out + k * W;
    if (s.is_pointwise()) {
      put_run<T, W>(base, kc, 0, xc + j0, 1, nc);
      continue;
    }
    for_each_tap_run(s, xc, tap, j0, nc, [&](int64_t off, const T* src, int64_t stride, int64_t n) {
      put_run<T, W>(base, kc, off, src, stride, n);
    });
  }
  if (nc % W != 0) {
    T* last = out + (nc / W) * W * kc;
    for (int64_t k = 0; k < kc; ++k)
      for (int64_t c = nc % W; c < W; ++c) last[k * W + c] = T(0);
  }
}

// Packs B = col^T (rows: output pixels, columns: taps) straight from the image.
template <class T, int W>
void pack_col_transposed(const ConvShape& s, const T* x, int64_t k0, int64_t kc, int64_t j0,
                         int64_t nc, T* out) {
  const int64_t panels = (nc + W - 1) / W;
  for (int64_t c = 0; c < panels * W; ++c) {
    T* dst = out + (c / W) * W * kc + c % W;  // element k at dst[k * W]
    if (c >= nc) {
      put_strided(dst, W, static_cast<const T*>(nullptr), 1, kc);
      continue;
    }
    const Tap tap = decode_row(s, j0 + c);
    const T* xc = x + tap.c * s.in_plane();
    if (s.is_pointwise()) {
      put_strided(dst, W, xc + k0, 1, kc);
      continue;
    }
    for_each_tap_run(s, xc, tap, k0, kc, [&](int64_t off, const T* src, int64_t stride, int64_t n) {
      put_strided(dst + off * W, W, src, stride, n);
    });
  }
}

// f(std::integral_constant<int, W>) for the GEMM's panel width.
template <class T, class F>
void with_panel_width(F&& f) {
  switch (gemm_panel_width<T>()) {
    case 4: return f(std::integral_constant<int, 4>{});
    case 8: return f(std::integral_constant<int, 8>{});
    case 16: return f(std::integral_constant<int, 16>{});
    case 32: return f(std::integral_constant<int, 32>{});
    default: PMSDSEN_FAIL("conv: unexpected GEMM panel width ", gemm_panel_width<T>());
  }
}

// Packers of one sample and group for gemm_packed_b.
template <class T>
PackB<T> col_packer(const ConvShape& s, const T* xg) {
  PackB<T> pack;
  with_panel_width<T>([&](auto w) {
    pack = [&s, xg](int64_t k0, int64_t kc, int64_t j0, int64_t nc, T* out) {
      pack_col<T, decltype(w)::value>(s, xg, k0, kc, j0, nc, out);
    };
  });
  return pack;
}
template <class T>
PackB<T> col_transposed_packer(const ConvShape& s, const T* xg) {
  PackB<T> pack;
  with_panel_width<T>([&](auto w) {
    pack = [&s, xg](int64_t k0, int64_t kc, int64_t j0, int64_t nc, T* out) {
      pack_col_transposed<T, decltype(w)::value>(s, xg, k0, kc, j0, nc, out);
    };
  });
  return pack;
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

constexpr int64_t kColumnChunk = int64_t{1} << 18;  // elements of a column block (1 MB in float)

// Adds the columns of output rows [oy0, oy1) (col: [col_rows, (oy1 - oy0) * out_w], row
// stride ld) into the image x of one sample and group. Channels in parallel; within a
// pixel the taps add up in a fixed order.
template <class T>
void col2im_add_rows(const ConvShape& s, const T* col, int64_t ld, int64_t oy0, int64_t oy1, T* x) {
  parallel_for(0, s.cin_g(), [&](int64_t c) {
    T* xc = x + c * s.in_plane();
    for (int64_t ky = 0; ky < s.kernel_h; ++ky) {
      for (int64_t kx = 0; kx < s.kernel_w; ++kx) {
        const T* cr = col + ((c * s.kernel_h + ky) * s.kernel_w + kx) * ld;
        const int64_t x0 = conv_in_coord(0, kx, s.stride, s.padding, s.dilation);
        const Range in = run_inside(x0, s.stride, s.out_w, s.in_w);
        for (int64_t oy = oy0; oy < oy1; ++oy) {
          const int64_t iy = conv_in_coord(oy, ky, s.stride, s.padding, s.dilation);
          if (iy < 0 || iy >= s.in_h) continue;
          T* row = xc + iy * s.in_w;
          const T* src = cr + (oy - oy0) * s.out_w;
          for (int64_t ox = in.first; ox < in.last; ++ox) row[x0 + ox * s.stride] += src[ox];
        }
      }
    }
  }, grain_for(s.taps() * (oy1 - oy0) * s.out_w));
}

}  // namespace

template <class T>
void conv2d_forward(const ConvShape& s, const T* x, const T* w, const T* bias, T* y) {
  if (s.is_depthwise3x3()) return depthwise3x3_forward(s, x, w, bias, y);
  const int64_t M = s.cout_g(), N = s.out_plane(), K = s.col_rows();
  for (int64_t n = 0; n < s.batch; ++n) {
    for (int64_t g = 0; g < s.groups; ++g) {
      const PackB<T> pack = col_packer(s, in_group(s, x, n, g));
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
  // General case (strides > 1: the transposed convolution's forward): col = w_g^T gy_g,
  // then scatter the columns back into the image, a few output rows at a time so that
  // the column block stays in cache.
  const int64_t rows = s.col_rows(), cout_g = s.cout_g();
  const int64_t chunk_rows = std::clamp<int64_t>(kColumnChunk / std::max<int64_t>(1, rows * s.out_w), 1, s.out_h);
  std::vector<T> col(static_cast<size_t>(rows * chunk_rows * s.out_w));
  for (int64_t n = 0; n < s.batch; ++n) {
    for (int64_t g = 0; g < s.groups; ++g) {
      T* gxg = gx + (n * s.in_channels + g * s.cin_g()) * s.in_plane();
      std::fill(gxg, gxg + s.cin_g() * s.in_plane(), T(0));
      for (int64_t oy0 = 0; oy0 < s.out_h; oy0 += chunk_rows) {
        const int64_t oy1 = std::min(s.out_h, oy0 + chunk_rows), cols = (oy1 - oy0) * s.out_w;
        gemm<T>(true, false, rows, cols, cout_g, T(1), w + g * cout_g * rows, rows,
                out_group(s, gy, n, g) + oy0 * s.out_w, s.out_plane(), T(0), col.data(), cols);
        col2im_add_rows(s, col.data(), cols, oy0, oy1, gxg);
      }
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
      const PackB<T> pack = col_transposed_packer(s, in_group(s, x, n, g));
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
  }, grain_for(plane));
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
  }, grain_for(plane));
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
    T* dst = col + r * plane;
    for_each_tap_run(s, x + tap.c * s.in_plane(), tap, 0, plane,
                     [&](int64_t off, const T* src, int64_t stride, int64_t n) {
                       put_strided(dst + off, 1, src, stride, n);
                     });
  }, grain_for(plane));
}

template <class T>
void col2im(const ConvShape& s, const T* col, T* x) {
  std::fill(x, x + s.cin_g() * s.in_plane(), T(0));
  col2im_add_rows(s, col, s.out_plane(), 0, s.out_h, x);
}

template <class T>
void channel_conv1d_forward(const T* x, const T* w, T* y, int64_t batch, int64_t channels, int64_t k) {
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c)
      y[n * channels + c] = channel_conv_at(x + n * channels, w, channels, k, c);
}

template <class T>
void channel_conv1d_sigmoid_forward(const T* x, const T* w, T* y, int64_t batch, int64_t channels, int64_t k) {
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c)
      y[n * channels + c] = hd::sigmoid<T, CpuMath>(channel_conv_at(x + n * channels, w, channels, k, c));
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

template <class T>
void conv2d_forward_epilogue(const ConvShape& s, const T* x, const T* w, T* y, const Epilogue<T>& e) {
  conv2d_forward<T>(s, x, w, nullptr, y);
  epilogue<T>(y, y, s.batch, s.out_channels, s.out_plane(), e);
}

// The reference: the windows gathered into dense tensors, the convolution, the result
// scattered (the CPU inference plan has its own kernels; this serves the fused eager path).
template <class T>
void conv2d_window_forward_epilogue(const ConvShape& s, const ConvWindows<T>& win, const T* x, const T* w, T* y,
                                    const Epilogue<T>& e) {
  const int64_t in_plane = s.in_plane(), out_plane = s.out_plane();
  std::vector<T> xin(static_cast<size_t>(s.batch * s.in_channels * in_plane));
  std::vector<T> yout(static_cast<size_t>(s.batch * s.out_channels * out_plane));
  parallel_for(0, s.batch * s.in_channels, [&](int64_t p) {
    const int64_t n = p / s.in_channels, c = p % s.in_channels;
    const T* src = x + (n * win.x_total + win.x_first + c) * in_plane;
    const T* add = win.addend ? win.addend + (n * win.a_total + win.a_first + c) * in_plane : nullptr;
    T* dst = xin.data() + p * in_plane;
    const T scale = win.x_scale ? win.x_scale[p] : T(1);
    for (int64_t i = 0; i < in_plane; ++i) dst[i] = add ? src[i] * scale + add[i] : src[i] * scale;
  });
  conv2d_forward_epilogue<T>(s, xin.data(), w, yout.data(), e);
  parallel_for(0, s.batch * s.out_channels, [&](int64_t p) {
    const int64_t n = p / s.out_channels, c = p % s.out_channels;
    std::copy_n(yout.data() + p * out_plane, out_plane, y + (n * win.y_total + win.y_first + c) * out_plane);
  });
}

#define PMSDSEN_INSTANTIATE(T)                                                                   \
  template void conv2d_forward<T>(const ConvShape&, const T*, const T*, const T*, T*);           \
  template void conv2d_window_forward_epilogue<T>(const ConvShape&, const ConvWindows<T>&, const T*, const T*, T*, \
                                                  const Epilogue<T>&);                           \
  template void conv2d_forward_epilogue<T>(const ConvShape&, const T*, const T*, T*, const Epilogue<T>&); \
  template void conv2d_backward_input<T>(const ConvShape&, const T*, const T*, T*);              \
  template void conv2d_backward_weight<T>(const ConvShape&, const T*, const T*, T*);             \
  template void conv_add_bias<T>(T*, const T*, int64_t, int64_t, int64_t);                      \
  template void conv_bias_backward<T>(const T*, int64_t, int64_t, int64_t, T*);                  \
  template void im2col<T>(const ConvShape&, const T*, T*);                                       \
  template void col2im<T>(const ConvShape&, const T*, T*);                                       \
  template void channel_conv1d_forward<T>(const T*, const T*, T*, int64_t, int64_t, int64_t);    \
  template void channel_conv1d_sigmoid_forward<T>(const T*, const T*, T*, int64_t, int64_t, int64_t); \
  template void channel_conv1d_backward_input<T>(const T*, const T*, T*, int64_t, int64_t,       \
                                                 int64_t);                                       \
  template void channel_conv1d_backward_weight<T>(const T*, const T*, T*, int64_t, int64_t, int64_t);
PMSDSEN_INSTANTIATE(float)
PMSDSEN_INSTANTIATE(double)
#undef PMSDSEN_INSTANTIATE

}  // namespace pmsdsen::cpu
