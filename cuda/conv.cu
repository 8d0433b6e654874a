// Convolutions on the GPU: 1x1 as cuBLAS products, the rest as im2col + cuBLAS, input
// gradients through a gather col2im (each pixel sums its own column entries, no
// atomics), weight and bias gradients reduced in a fixed order. Depthwise 3x3 lives in
// conv_depthwise.cu.
#include <algorithm>

#include "core/activation_math.h"
#include "core/conv_math.h"
#include "cuda/activation.h"
#include "cuda/basic.h"
#include "cuda/blas.h"
#include "cuda/conv.h"
#include "cuda/conv_internal.h"
#include "cuda/launch.cuh"
#include "cuda/reduce.cuh"

namespace pmsdsen::cuda {
namespace {

constexpr int64_t kColumnBudget = int64_t{64} << 20;  // floats of im2col scratch (256 MB)
constexpr int kMaxDepthwiseDilation = 8;                // larger dilations take the general path

bool use_depthwise(const ConvShape& s) {
  return s.is_depthwise3x3() && s.dilation <= kMaxDepthwiseDilation;
}

// `images` consecutive (sample, group) images: image i reads x + i * cin_g * in_plane and
// writes col + i * col_rows * out_plane.
__global__ void im2col_kernel(ConvShape s, const float* __restrict__ x, float* __restrict__ col,
                              int64_t images) {
  const int64_t rows = s.col_rows(), plane = s.out_plane();
  PMSDSEN_GRID_STRIDE(idx, images * rows * plane) {
    const int64_t j = idx % plane, r = (idx / plane) % rows, i = idx / (plane * rows);
    const int64_t c = r / s.taps(), t = r % s.taps();
    const int64_t iy = conv_in_coord(j / s.out_w, t / s.kernel_w, s.stride, s.padding, s.dilation);
    const int64_t ix = conv_in_coord(j % s.out_w, t % s.kernel_w, s.stride, s.padding, s.dilation);
    const bool inside = iy >= 0 && iy < s.in_h && ix >= 0 && ix < s.in_w;
    col[idx] = inside ? x[(i * s.cin_g() + c) * s.in_plane() + iy * s.in_w + ix] : 0.f;
  }
}

// The adjoint: every pixel of `images` images gathers its column entries.
__global__ void col2im_kernel(ConvShape s, const float* __restrict__ col, float* __restrict__ x,
                              int64_t images) {
  const int64_t cin_g = s.cin_g(), in_plane = s.in_plane();
  const int64_t image_cols = s.col_rows() * s.out_plane();
  PMSDSEN_GRID_STRIDE(idx, images * cin_g * in_plane) {
    const int64_t ix = idx % s.in_w, iy = (idx / s.in_w) % s.in_h;
    const int64_t c = (idx / in_plane) % cin_g, i = idx / (cin_g * in_plane);
    x[idx] = col2im_pixel(s, col + i * image_cols, c, iy, ix);
  }
}

__global__ void add_bias_kernel(float* __restrict__ y, const float* __restrict__ bias,
                                int64_t channels, int64_t plane, int64_t n) {
  PMSDSEN_GRID_STRIDE(i, n) y[i] += bias[(i / plane) % channels];
}

// partial[c * chunks + chunk] = sum of gy[n, c, :] over the chunk's share of the
// (n, pixel) pairs of channel c. grid (chunks, channels).
__global__ void bias_partial_kernel(const float* __restrict__ gy, float* __restrict__ partial,
                                    int64_t batch, int64_t channels, int64_t plane, int64_t per_chunk) {
  const int64_t c = blockIdx.y, chunk = blockIdx.x;
  const int64_t begin = chunk * per_chunk;
  const int64_t end = begin + per_chunk < batch * plane ? begin + per_chunk : batch * plane;
  float acc = 0.f;
  for (int64_t e = begin + threadIdx.x; e < end; e += blockDim.x)
    acc += gy[((e / plane) * channels + c) * plane + e % plane];
  acc = block_sum(acc);
  if (threadIdx.x == 0) partial[c * gridDim.x + chunk] = acc;
}

__global__ void reduce_partials_kernel(const float* __restrict__ partial, float* __restrict__ out,
                                       int64_t count, int64_t inner) {
  const int64_t b = blockIdx.x;
  const float* p = partial + (b / inner) * count * inner + b % inner;
  float acc = 0.f;
  for (int64_t i = threadIdx.x; i < count; i += blockDim.x) acc += p[i * inner];
  acc = block_sum(acc);
  if (threadIdx.x == 0) out[b] = acc;
}

// sigmoid: ECA's scale in inference (the conv and its sigmoid in one launch).
__global__ void channel_conv_kernel(const float* __restrict__ x, const float* __restrict__ w,
                                    float* __restrict__ y, int64_t channels, int64_t k, int64_t n,
                                    bool input_grad, bool sigmoid) {
  PMSDSEN_GRID_STRIDE(i, n) {
    const float* row = x + (i / channels) * channels;
    const int64_t c = i % channels;
    const float v = input_grad ? channel_conv_grad_input_at(row, w, channels, k, c)
                               : channel_conv_at(row, w, channels, k, c);
    y[i] = sigmoid ? hd::sigmoid(v) : v;
  }
}

// One block per tap t: gw[t] = sum over (n, c) of gy[n, c] * x[n, c - pad + t].
__global__ void channel_conv_weight_kernel(const float* __restrict__ gy, const float* __restrict__ x,
                                           float* __restrict__ gw, int64_t batch, int64_t channels,
                                           int64_t k) {
  const int64_t t = blockIdx.x, pad = (k - 1) / 2;
  float acc = 0.f;
  for (int64_t i = threadIdx.x; i < batch * channels; i += blockDim.x) {
    const int64_t c = i % channels, src = c - pad + t;
    if (src >= 0 && src < channels) acc += gy[i] * x[i - c + src];
  }
  acc = block_sum(acc);
  if (threadIdx.x == 0) gw[t] = acc;
}

void launch_im2col(const ConvShape& s, const float* x, float* col, int64_t images) {
  const int64_t n = images * s.col_rows() * s.out_plane();
  if (n == 0) return;
  PMSDSEN_LAUNCH(im2col_kernel, grid_for(n), kThreads, 0)(s, x, col, images);
}

void launch_col2im(const ConvShape& s, const float* col, float* x, int64_t images) {
  const int64_t n = images * s.cin_g() * s.in_plane();
  if (n == 0) return;
  PMSDSEN_LAUNCH(col2im_kernel, grid_for(n), kThreads, 0)(s, col, x, images);
}

// Samples per im2col chunk, so that the column scratch stays within budget.
int64_t samples_per_chunk(const ConvShape& s) {
  const int64_t per_sample = std::max<int64_t>(1, s.groups * s.col_rows() * s.out_plane());
  return std::clamp<int64_t>(kColumnBudget / per_sample, 1, std::max<int64_t>(1, s.batch));
}

// dst [batch, channels, plane] = the input window (+ the addend window) of win.
__global__ void gather_window_kernel(const float* __restrict__ x, ConvWindows<float> win, float* __restrict__ dst,
                                     int64_t channels, int64_t plane, int64_t total) {
  PMSDSEN_GRID_STRIDE(i, total) {
    const int64_t p = i / plane, at = i % plane, n = p / channels, c = p % channels;
    float v = x[(n * win.x_total + win.x_first + c) * plane + at] * (win.x_scale ? win.x_scale[p] : 1.f);
    if (win.addend) v += win.addend[(n * win.a_total + win.a_first + c) * plane + at];
    dst[i] = v;
  }
}

}  // namespace

void reduce_partials(const float* partial, float* out, int64_t rows, int64_t count, int64_t inner) {
  if (rows == 0) return;
  PMSDSEN_LAUNCH(reduce_partials_kernel, static_cast<unsigned>(rows), reduce_threads(count, 4, kThreads), 0)(
      partial, out, count, inner);
}

void im2col(const ConvShape& s, const float* x, float* col) { launch_im2col(s, x, col, 1); }
void col2im(const ConvShape& s, const float* col, float* x) { launch_col2im(s, col, x, 1); }

void conv_add_bias(float* y, const float* bias, int64_t batch, int64_t channels, int64_t plane) {
  const int64_t n = batch * channels * plane;
  if (n == 0) return;
  PMSDSEN_LAUNCH(add_bias_kernel, grid_for(n), kThreads, 0)(y, bias, channels, plane, n);
}

void conv_bias_backward(const float* gy, int64_t batch, int64_t channels, int64_t plane, float* gb) {
  if (channels == 0) return;
  PMSDSEN_CHECK(channels <= 65535, "conv bias backward: ", channels, " channels exceed the grid limit");
  // Chunks depend on the sizes only: the summation order is fixed.
  const int64_t total = batch * plane;
  const int64_t chunks = std::clamp<int64_t>((total + 32767) / 32768, 1, 256);
  const int64_t per_chunk = std::max<int64_t>(1, (total + chunks - 1) / chunks);
  DeviceBuffer partial(chunks * channels);
  const dim3 grid(static_cast<unsigned>(chunks), static_cast<unsigned>(channels));
  PMSDSEN_LAUNCH(bias_partial_kernel, grid, reduce_threads(per_chunk, 8, kThreads), 0)(gy, partial.get(), batch,
      channels, plane, per_chunk);
  reduce_partials(partial.get(), gb, channels, chunks, 1);
}

void conv2d_forward(const ConvShape& s, const float* x, const float* w, const float* bias, float* y) {
  if (use_depthwise(s)) return depthwise3x3_forward(s, x, w, bias, y);
  const int64_t rows = s.col_rows(), plane = s.out_plane(), cout_g = s.cout_g();
  if (s.batch == 0 || plane == 0) return;
  if (s.is_pointwise() && s.groups == 1) {
    // Y_n [Cout, HW] = W [Cout, Cin] X_n [Cin, HW] for every n.
    gemm_strided_batched(false, false, s.out_channels, plane, s.in_channels, 1.f, w, s.in_channels, 0,
                         x, plane, s.in_channels * plane, 0.f, y, plane, s.out_channels * plane,
                         s.batch);
  } else {
    const int64_t chunk = samples_per_chunk(s);
    DeviceBuffer col(chunk * s.groups * rows * plane);
    for (int64_t n0 = 0; n0 < s.batch; n0 += chunk) {
      const int64_t nb = std::min(chunk, s.batch - n0);
      launch_im2col(s, x + n0 * s.in_channels * s.in_plane(), col.get(), nb * s.groups);
      float* y0 = y + n0 * s.out_channels * plane;
      if (s.groups == 1) {
        gemm_strided_batched(false, false, cout_g, plane, rows, 1.f, w, rows, 0, col.get(), plane,
                             rows * plane, 0.f, y0, plane, s.out_channels * plane, nb);
      } else {
        for (int64_t n = 0; n < nb; ++n)
          gemm_strided_batched(false, false, cout_g, plane, rows, 1.f, w, rows, cout_g * rows,
                               col.get() + n * s.groups * rows * plane, plane, rows * plane, 0.f,
                               y0 + n * s.out_channels * plane, plane, cout_g * plane, s.groups);
      }
    }
  }
  if (bias) conv_add_bias(y, bias, s.batch, s.out_channels, plane);
}

void conv2d_forward_epilogue(const ConvShape& s, const float* x, const float* w, float* y,
                             const Epilogue<float>& epi) {
  if (use_depthwise(s)) return depthwise3x3_forward_epilogue(s, x, w, y, epi);
  if (use_pointwise_kernel(s)) {
    ConvWindows<float> dense;
    dense.x_total = s.in_channels;
    dense.y_total = s.out_channels;
    return pointwise_forward_epilogue(s, dense, x, w, y, epi);
  }
  conv2d_forward(s, x, w, nullptr, y);
  epilogue(y, y, s.batch, s.out_channels, s.out_plane(), epi);
}

void conv2d_window_forward_epilogue(const ConvShape& s, const ConvWindows<float>& win, const float* x,
                                    const float* w, float* y, const Epilogue<float>& epi) {
  if (use_depthwise(s)) return depthwise3x3_window_forward_epilogue(s, win, x, w, y, epi);
  const int64_t in_plane = s.in_plane(), plane = s.out_plane();
  if (s.batch == 0 || plane == 0) return;
  if (use_pointwise_kernel(s) && !win.addend) return pointwise_forward_epilogue(s, win, x, w, y, epi);
  if (s.is_pointwise() && s.groups == 1 && !win.addend && !win.x_scale) {
    // Y_n [Cout, HW] = W [Cout, Cin] X_n [Cin, HW], X_n and Y_n windows: cuBLAS's strides.
    gemm_strided_batched(false, false, s.out_channels, plane, s.in_channels, 1.f, w, s.in_channels, 0,
                         x + win.x_first * plane, plane, win.x_total * plane, 0.f, y + win.y_first * plane, plane,
                         win.y_total * plane, s.batch);
    epilogue_window(y, s.batch, s.out_channels, plane, win.y_total, win.y_first, epi);
    return;
  }
  DeviceBuffer in(s.batch * s.in_channels * in_plane), out(s.batch * s.out_channels * plane);
  const int64_t total = s.batch * s.in_channels * in_plane;
  if (total > 0)
    PMSDSEN_LAUNCH(gather_window_kernel, grid_for(total), kThreads, 0)(x, win, in.get(), s.in_channels, in_plane,
                                                                       total);
  conv2d_forward_epilogue(s, in.get(), w, out.get(), epi);
  copy_channels(out.get(), s.out_channels, 0, y, win.y_total, win.y_first, s.out_channels, s.batch,
                static_cast<int64_t>(plane * sizeof(float)));
}

void conv2d_backward_input(const ConvShape& s, const float* gy, const float* w, float* gx) {
  if (use_depthwise(s)) return depthwise3x3_backward_input(s, gy, w, gx);
  const int64_t rows = s.col_rows(), plane = s.out_plane(), cout_g = s.cout_g();
  if (s.batch == 0 || s.in_plane() == 0) return;
  if (s.is_pointwise() && s.groups == 1) {
    // gX_n [Cin, HW] = W^T gY_n.
    gemm_strided_batched(true, false, s.in_channels, plane, s.out_channels, 1.f, w, s.in_channels, 0,
                         gy, plane, s.out_channels * plane, 0.f, gx, plane, s.in_channels * plane,
                         s.batch);
    return;
  }
  const int64_t chunk = samples_per_chunk(s);
  DeviceBuffer col(chunk * s.groups * rows * plane);
  for (int64_t n0 = 0; n0 < s.batch; n0 += chunk) {
    const int64_t nb = std::min(chunk, s.batch - n0);
    const float* gy0 = gy + n0 * s.out_channels * plane;
    if (s.groups == 1) {
      gemm_strided_batched(true, false, rows, plane, cout_g, 1.f, w, rows, 0, gy0, plane,
                           s.out_channels * plane, 0.f, col.get(), plane, rows * plane, nb);
    } else {
      for (int64_t n = 0; n < nb; ++n)
        gemm_strided_batched(true, false, rows, plane, cout_g, 1.f, w, rows, cout_g * rows,
                             gy0 + n * s.out_channels * plane, plane, cout_g * plane, 0.f,
                             col.get() + n * s.groups * rows * plane, plane, rows * plane, s.groups);
    }
    launch_col2im(s, col.get(), gx + n0 * s.in_channels * s.in_plane(), nb * s.groups);
  }
}

void conv2d_backward_weight(const ConvShape& s, const float* gy, const float* x, float* gw) {
  if (use_depthwise(s)) return depthwise3x3_backward_weight(s, gy, x, gw);
  const int64_t rows = s.col_rows(), plane = s.out_plane(), cout_g = s.cout_g();
  if (s.batch == 0 || plane == 0) {
    PMSDSEN_CUDA_CHECK(cudaMemsetAsync(gw, 0, sizeof(float) * s.weight_numel(), cuda_env::stream()));
    return;
  }
  // Sums over the batch as consecutive products with beta = 1: a fixed order.
  if (s.is_pointwise() && s.groups == 1) {
    for (int64_t n = 0; n < s.batch; ++n)
      gemm(false, true, s.out_channels, s.in_channels, plane, 1.f, gy + n * s.out_channels * plane,
           plane, x + n * s.in_channels * plane, plane, n == 0 ? 0.f : 1.f, gw, s.in_channels);
    return;
  }
  const int64_t chunk = samples_per_chunk(s);
  DeviceBuffer col(chunk * s.groups * rows * plane);
  for (int64_t n0 = 0; n0 < s.batch; n0 += chunk) {
    const int64_t nb = std::min(chunk, s.batch - n0);
    launch_im2col(s, x + n0 * s.in_channels * s.in_plane(), col.get(), nb * s.groups);
    for (int64_t n = 0; n < nb; ++n) {
      const float beta = n0 + n == 0 ? 0.f : 1.f;
      gemm_strided_batched(false, true, cout_g, rows, plane, 1.f,
                           gy + (n0 + n) * s.out_channels * plane, plane, cout_g * plane,
                           col.get() + n * s.groups * rows * plane, plane, rows * plane, beta, gw,
                           rows, cout_g * rows, s.groups);
    }
  }
}

void channel_conv1d_forward(const float* x, const float* w, float* y, int64_t batch,
                            int64_t channels, int64_t k) {
  const int64_t n = batch * channels;
  if (n == 0) return;
  PMSDSEN_LAUNCH(channel_conv_kernel, grid_for(n), kThreads, 0)(x, w, y, channels, k, n, false, false);
}

void channel_conv1d_sigmoid_forward(const float* x, const float* w, float* y, int64_t batch, int64_t channels,
                                    int64_t k) {
  const int64_t n = batch * channels;
  if (n == 0) return;
  PMSDSEN_LAUNCH(channel_conv_kernel, grid_for(n), kThreads, 0)(x, w, y, channels, k, n, false, true);
}

void channel_conv1d_backward_input(const float* gy, const float* w, float* gx, int64_t batch,
                                   int64_t channels, int64_t k) {
  const int64_t n = batch * channels;
  if (n == 0) return;
  PMSDSEN_LAUNCH(channel_conv_kernel, grid_for(n), kThreads, 0)(gy, w, gx, channels, k, n, true, false);
}

void channel_conv1d_backward_weight(const float* gy, const float* x, float* gw, int64_t batch,
                                    int64_t channels, int64_t k) {
  if (k == 0) return;
  PMSDSEN_LAUNCH(channel_conv_weight_kernel, static_cast<unsigned>(k), reduce_threads(batch * channels, 4, kThreads), 0)(
      gy, x, gw, batch, channels, k);
}

}  // namespace pmsdsen::cuda
