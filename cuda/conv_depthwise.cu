// Depthwise 3x3, stride 1, dilation up to kMaxDilation: each block stages a tile of one
// (sample, channel) plane with its halo of `dilation` pixels in shared memory (coalesced
// loads, zeros outside the image) and each thread computes a 2 x 4 patch of outputs
// spaced by the warp width, so shared-memory reads are conflict-free and stores
// coalesced. The input gradient is the same kernel with the taps reversed; the weight
// gradient writes per-(channel, tile) partial sums that a second kernel adds up in a
// fixed order. In inference the forward applies an epilogue (core/epilogue_math.h:
// folded BN, activation, residual) to each output before its store.
#include <algorithm>

#include "cuda/conv.h"
#include "cuda/conv_internal.h"
#include "cuda/launch.cuh"
#include "cuda/reduce.cuh"

namespace pmsdsen::cuda {
namespace {

constexpr int kThreadsX = 32, kThreadsY = 8;  // one block: 256 threads seen as 8 rows of a warp
constexpr int kColsPerThread = 4, kRowsPerThread = 2;
constexpr int kTileW = kThreadsX * kColsPerThread;  // 128 outputs wide
constexpr int kTileH = kThreadsY * kRowsPerThread;  // 16 outputs tall
constexpr int kMaxDilation = 8;
constexpr unsigned kMaxGridZ = 65535;

// Plane geometry: out[oy, ox] reads in[oy - pad + ky*dil, ox - pad + kx*dil].
struct Geometry {
  int in_h, in_w, out_h, out_w, pad, dil;
  __host__ __device__ int tile_rows() const { return kTileH + 2 * dil; }
  __host__ __device__ int tile_cols() const { return kTileW + 2 * dil; }
};

// Stages the input window of the output tile at (oy0, ox0), times `scale`, plus `add` when
// not null.
__device__ void load_tile(float* tile, const float* __restrict__ in, const Geometry& g, int oy0,
                          int ox0, const float* __restrict__ add = nullptr, float scale = 1.f) {
  const int cols = g.tile_cols(), count = g.tile_rows() * cols;
  for (int i = threadIdx.x; i < count; i += blockDim.x) {
    const int iy = oy0 - g.pad + i / cols, ix = ox0 - g.pad + i % cols;
    const bool inside = iy >= 0 && iy < g.in_h && ix >= 0 && ix < g.in_w;
    const int64_t at = static_cast<int64_t>(iy) * g.in_w + ix;
    tile[i] = inside ? (add ? __ldg(in + at) * scale + __ldg(add + at) : __ldg(in + at) * scale) : 0.f;
  }
}

// grid (tiles x, tiles y, planes); plane p = plane0 + blockIdx.z = n * channels + c.
__global__ void __launch_bounds__(kThreadsX * kThreadsY)
    depthwise_kernel(const float* __restrict__ x, const float* __restrict__ w,
                     const float* __restrict__ bias, float* __restrict__ y, Geometry g,
                     int channels, int64_t plane0, bool flip, Epilogue<float> epi, bool has_epi,
                     ConvWindows<float> win) {
  PMSDSEN_DYNAMIC_SHARED(float, tile);
  const int64_t p = plane0 + blockIdx.z;
  const int c = static_cast<int>(p % channels);
  const int64_t n = p / channels;
  const int oy0 = blockIdx.y * kTileH, ox0 = blockIdx.x * kTileW;
  const int64_t in_plane = g.in_h * static_cast<int64_t>(g.in_w);
  load_tile(tile, x + (n * win.x_total + win.x_first + c) * in_plane, g, oy0, ox0,
            win.addend ? win.addend + (n * win.a_total + win.a_first + c) * in_plane : nullptr,
            win.x_scale ? win.x_scale[p] : 1.f);
  float wr[9];
#pragma unroll
  for (int t = 0; t < 9; ++t) wr[t] = w[9 * c + (flip ? 8 - t : t)];
  const float b = bias ? bias[c] : 0.f;
  const hd::EpiPlane<float> ep = hd::epilogue_plane(epi, p, channels);
  const float* res = epi.residual ? epi.residual + p * g.out_h * static_cast<int64_t>(g.out_w) : nullptr;
  __syncthreads();
  const int tx = threadIdx.x % kThreadsX, ty = threadIdx.x / kThreadsX;
  const int cols = g.tile_cols(), d = g.dil;
  float* out = y + (n * win.y_total + win.y_first + c) * g.out_h * static_cast<int64_t>(g.out_w);
#pragma unroll
  for (int ry = 0; ry < kRowsPerThread; ++ry) {
    const int ly = ty + ry * kThreadsY, oy = oy0 + ly;
    if (oy >= g.out_h) break;
#pragma unroll
    for (int rx = 0; rx < kColsPerThread; ++rx) {
      const int lx = tx + rx * kThreadsX, ox = ox0 + lx;
      if (ox >= g.out_w) break;
      float acc = b;
#pragma unroll
      for (int ky = 0; ky < 3; ++ky)
#pragma unroll
        for (int kx = 0; kx < 3; ++kx)
          acc = fmaf(wr[3 * ky + kx], tile[(ly + ky * d) * cols + lx + kx * d], acc);
      const int64_t o = static_cast<int64_t>(oy) * g.out_w + ox;
      out[o] = has_epi ? hd::epilogue_value(ep, res != nullptr, acc, res ? res[o] : 0.f) : acc;
    }
  }
}

// Partial weight gradients of one tile:
// partial[((c * batch + n) * tiles + tile) * 9 + t] = sum over the tile of gy * x(tap t).
__global__ void __launch_bounds__(kThreadsX * kThreadsY)
    depthwise_weight_partial_kernel(const float* __restrict__ gy, const float* __restrict__ x,
                                    float* __restrict__ partial, Geometry g, int channels,
                                    int64_t batch, int64_t plane0) {
  PMSDSEN_DYNAMIC_SHARED(float, tile);
  const int64_t p = plane0 + blockIdx.z;
  const int64_t n = p / channels, c = p % channels;
  const int oy0 = blockIdx.y * kTileH, ox0 = blockIdx.x * kTileW;
  load_tile(tile, x + p * g.in_h * static_cast<int64_t>(g.in_w), g, oy0, ox0);
  __syncthreads();
  const int tx = threadIdx.x % kThreadsX, ty = threadIdx.x / kThreadsX;
  const int cols = g.tile_cols(), d = g.dil;
  const float* grad = gy + p * g.out_h * static_cast<int64_t>(g.out_w);
  float acc[9];
#pragma unroll
  for (int t = 0; t < 9; ++t) acc[t] = 0.f;
#pragma unroll
  for (int ry = 0; ry < kRowsPerThread; ++ry) {
    const int ly = ty + ry * kThreadsY, oy = oy0 + ly;
    if (oy >= g.out_h) break;
#pragma unroll
    for (int rx = 0; rx < kColsPerThread; ++rx) {
      const int lx = tx + rx * kThreadsX, ox = ox0 + lx;
      if (ox >= g.out_w) break;
      const float gv = grad[static_cast<int64_t>(oy) * g.out_w + ox];
#pragma unroll
      for (int ky = 0; ky < 3; ++ky)
#pragma unroll
        for (int kx = 0; kx < 3; ++kx)
          acc[3 * ky + kx] = fmaf(gv, tile[(ly + ky * d) * cols + lx + kx * d], acc[3 * ky + kx]);
    }
  }
  const int64_t tiles = static_cast<int64_t>(gridDim.x) * gridDim.y;
  const int64_t tile_index = static_cast<int64_t>(blockIdx.y) * gridDim.x + blockIdx.x;
  float* dst = partial + ((c * batch + n) * tiles + tile_index) * 9;
#pragma unroll
  for (int t = 0; t < 9; ++t) {
    const float total = block_sum(acc[t]);
    if (threadIdx.x == 0) dst[t] = total;
  }
}

size_t tile_bytes(const Geometry& g) {
  return static_cast<size_t>(g.tile_rows()) * g.tile_cols() * sizeof(float);
}

dim3 tile_grid(const Geometry& g, int64_t planes) {
  return dim3(static_cast<unsigned>((g.out_w + kTileW - 1) / kTileW),
              static_cast<unsigned>((g.out_h + kTileH - 1) / kTileH), static_cast<unsigned>(planes));
}

Geometry checked_geometry(const ConvShape& s, bool input_grad) {
  PMSDSEN_CHECK(s.is_depthwise3x3() && s.dilation <= kMaxDilation, "depthwise3x3 (CUDA): needs a ",
                "depthwise 3x3 stride-1 convolution with dilation <= ", kMaxDilation, ", got ",
                s.kernel_h, "x", s.kernel_w, " stride ", s.stride, " dilation ", s.dilation);
  PMSDSEN_CHECK(s.in_h < (1 << 30) && s.in_w < (1 << 30) && s.out_h < (1 << 30) && s.out_w < (1 << 30) &&
                    (s.out_h + kTileH - 1) / kTileH <= 65535 && (s.in_h + kTileH - 1) / kTileH <= 65535 && std::abs(s.padding) < (1 << 20),
                "depthwise3x3 (CUDA): plane ", s.in_h, "x", s.in_w, " too large");
  const int ih = static_cast<int>(s.in_h), iw = static_cast<int>(s.in_w);
  const int oh = static_cast<int>(s.out_h), ow = static_cast<int>(s.out_w);
  const int d = static_cast<int>(s.dilation), p = static_cast<int>(s.padding);
  // The input gradient runs from the output plane back to the input plane with the
  // taps reversed and padding 2*dil - pad.
  return input_grad ? Geometry{oh, ow, ih, iw, 2 * d - p, d} : Geometry{ih, iw, oh, ow, p, d};
}

void launch_depthwise(const ConvShape& s, const float* in, const float* w, const float* bias,
                      float* out, bool input_grad, const Epilogue<float>* epi = nullptr,
                      const ConvWindows<float>* windows = nullptr) {
  ConvWindows<float> win;
  if (windows) win = *windows;
  else win.x_total = win.y_total = s.in_channels;
  const Geometry g = checked_geometry(s, input_grad);
  const int64_t planes = s.batch * s.in_channels;
  if (planes == 0 || g.out_h == 0 || g.out_w == 0) return;  // nothing to write; a 0-sized grid is an error
  for (int64_t p0 = 0; p0 < planes; p0 += kMaxGridZ) {
    const int64_t count = std::min<int64_t>(kMaxGridZ, planes - p0);
    PMSDSEN_LAUNCH(depthwise_kernel, tile_grid(g, count), kThreadsX * kThreadsY, tile_bytes(g))(in, w, bias, out, g,
        static_cast<int>(s.in_channels), p0, input_grad, epi ? *epi : Epilogue<float>{}, epi != nullptr, win);
  }
}

}  // namespace

void depthwise3x3_forward(const ConvShape& s, const float* x, const float* w, const float* bias,
                          float* y) {
  launch_depthwise(s, x, w, bias, y, false);
}

void depthwise3x3_forward_epilogue(const ConvShape& s, const float* x, const float* w, float* y,
                                   const Epilogue<float>& epi) {
  launch_depthwise(s, x, w, nullptr, y, false, &epi);
}

void depthwise3x3_window_forward_epilogue(const ConvShape& s, const ConvWindows<float>& win, const float* x,
                                          const float* w, float* y, const Epilogue<float>& epi) {
  launch_depthwise(s, x, w, nullptr, y, false, &epi, &win);
}

void depthwise3x3_backward_input(const ConvShape& s, const float* gy, const float* w, float* gx) {
  launch_depthwise(s, gy, w, nullptr, gx, true);
}

void depthwise3x3_backward_weight(const ConvShape& s, const float* gy, const float* x, float* gw) {
  const Geometry g = checked_geometry(s, false);
  const int64_t planes = s.batch * s.in_channels;
  if (planes == 0 || s.out_h == 0 || s.out_w == 0) {
    PMSDSEN_CUDA_CHECK(cudaMemsetAsync(gw, 0, sizeof(float) * 9 * s.in_channels, cuda_env::stream()));
    return;
  }
  const dim3 grid = tile_grid(g, 1);
  const int64_t tiles = static_cast<int64_t>(grid.x) * grid.y;
  DeviceBuffer partial(planes * tiles * 9);
  for (int64_t p0 = 0; p0 < planes; p0 += kMaxGridZ) {
    const int64_t count = std::min<int64_t>(kMaxGridZ, planes - p0);
    PMSDSEN_LAUNCH(depthwise_weight_partial_kernel, tile_grid(g, count), kThreadsX * kThreadsY, tile_bytes(g))(
        gy, x, partial.get(), g, static_cast<int>(s.in_channels), s.batch, p0);
  }
  // gw[c * 9 + t] = sum over (n, tile) of the partials, in a fixed order.
  reduce_partials(partial.get(), gw, s.in_channels * 9, s.batch * tiles, 9);
}

}  // namespace pmsdsen::cuda
