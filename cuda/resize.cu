#include "cuda/resize.h"

#include "core/allocator.h"
#include "core/resize_math.h"
#include "cuda/launch.cuh"

namespace pmsdsen::cuda {
namespace {

// Threads cover the positions of one plane (x); blockIdx.y picks a group of planes that
// the thread walks, reusing the interpolation taps it computed once.
struct PlaneGroups {
  dim3 grid;
  int64_t per_group;
};

PlaneGroups plane_groups(int64_t positions, int64_t planes) {
  const int64_t bx = (positions + kThreads - 1) / kThreads;
  int64_t groups = std::max<int64_t>(1, std::min<int64_t>({(2048 + bx - 1) / bx, planes, 65535}));
  const int64_t per_group = (planes + groups - 1) / groups;
  groups = (planes + per_group - 1) / per_group;
  return {dim3(static_cast<unsigned>(bx), static_cast<unsigned>(groups)), per_group};
}

__global__ void bilinear_forward_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t planes,
                                        int64_t per_group, int H, int W, int OH, int OW, float ratio_h,
                                        float ratio_w, bool align_corners) {
  const int pos = blockIdx.x * blockDim.x + threadIdx.x;
  if (pos >= OH * OW) return;
  const int oh = pos / OW, ow = pos % OW;
  int h0, h1, w0, w1;
  float a0, a1, b0, b1;
  hd::bilinear_source(ratio_h, oh, H, align_corners, h0, h1, a0, a1);
  hd::bilinear_source(ratio_w, ow, W, align_corners, w0, w1, b0, b1);
  const int o00 = h0 * W + w0, o01 = h0 * W + w1, o10 = h1 * W + w0, o11 = h1 * W + w1;
  const int64_t first = blockIdx.y * per_group;
  const int64_t last = first + per_group < planes ? first + per_group : planes;
  for (int64_t plane = first; plane < last; ++plane) {
    const float* xp = x + plane * H * W;
    y[plane * OH * OW + pos] = a0 * (b0 * __ldg(xp + o00) + b1 * __ldg(xp + o01)) +
                               a1 * (b0 * __ldg(xp + o10) + b1 * __ldg(xp + o11));
  }
}

// Per-axis tables for the backward: taps of every output index, and for every input
// index the outputs [first, last) that read it.
struct Tap {
  int i0, i1;
  float l0, l1;
};

__global__ void axis_tables_kernel(float ratio, int out, int in, bool align_corners, Tap* __restrict__ taps,
                                   int2* __restrict__ ranges) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < out) {
    Tap t;
    hd::bilinear_source(ratio, i, in, align_corners, t.i0, t.i1, t.l0, t.l1);
    taps[i] = t;
  }
  if (i < in) {
    int first, last;
    hd::bilinear_outputs_reading(ratio, out, in, align_corners, i, first, last);
    ranges[i] = make_int2(first, last);
  }
}

__device__ __forceinline__ float tap_weight(const Tap& t, int j) {
  return (t.i0 == j ? t.l0 : 0.f) + (t.i1 == j ? t.l1 : 0.f);
}

// Gather: each input pixel sums the output gradients that read it, in a fixed order.
__global__ void bilinear_backward_kernel(const float* __restrict__ gy, float* __restrict__ gx, int64_t planes,
                                         int64_t per_group, int H, int W, int OH, int OW,
                                         const Tap* __restrict__ taps_h, const int2* __restrict__ ranges_h,
                                         const Tap* __restrict__ taps_w, const int2* __restrict__ ranges_w) {
  const int pos = blockIdx.x * blockDim.x + threadIdx.x;
  if (pos >= H * W) return;
  const int h = pos / W, w = pos % W;
  const int2 rh = ranges_h[h], rw = ranges_w[w];
  const int64_t first = blockIdx.y * per_group;
  const int64_t last = first + per_group < planes ? first + per_group : planes;
  for (int64_t plane = first; plane < last; ++plane) {
    const float* g = gy + plane * OH * OW;
    float acc = 0.f;
    for (int oh = rh.x; oh < rh.y; ++oh) {
      const float wh = tap_weight(taps_h[oh], h);
      const float* grow = g + static_cast<int64_t>(oh) * OW;
      float row = 0.f;
      for (int ow = rw.x; ow < rw.y; ++ow) row += tap_weight(taps_w[ow], w) * grow[ow];
      acc += wh * row;
    }
    gx[plane * H * W + pos] = acc;
  }
}

}  // namespace

void bilinear_forward(const float* x, float* y, int64_t planes, int H, int W, int OH, int OW, float ratio_h,
                      float ratio_w, bool align_corners) {
  if (planes == 0) return;
  const PlaneGroups pg = plane_groups(static_cast<int64_t>(OH) * OW, planes);
  PMSDSEN_LAUNCH(bilinear_forward_kernel, pg.grid, kThreads, 0)(x, y, planes, pg.per_group, H, W, OH, OW, ratio_h,
      ratio_w, align_corners);
}

void bilinear_backward(const float* gy, float* gx, int64_t planes, int H, int W, int OH, int OW, float ratio_h,
                       float ratio_w, bool align_corners) {
  if (planes == 0) return;
  const size_t bytes = (static_cast<size_t>(OH) + OW) * sizeof(Tap) + (static_cast<size_t>(H) + W) * sizeof(int2);
  char* work = static_cast<char*>(allocate(bytes, Device::cuda()));
  Tap* taps_h = reinterpret_cast<Tap*>(work);
  Tap* taps_w = taps_h + OH;
  int2* ranges_h = reinterpret_cast<int2*>(taps_w + OW);
  int2* ranges_w = ranges_h + H;
  PMSDSEN_LAUNCH(axis_tables_kernel, (std::max(OH, H) + kThreads - 1) / kThreads, kThreads, 0)(ratio_h, OH, H,
      align_corners, taps_h, ranges_h);
  PMSDSEN_LAUNCH(axis_tables_kernel, (std::max(OW, W) + kThreads - 1) / kThreads, kThreads, 0)(ratio_w, OW, W,
      align_corners, taps_w, ranges_w);
  const PlaneGroups pg = plane_groups(static_cast<int64_t>(H) * W, planes);
  PMSDSEN_LAUNCH(bilinear_backward_kernel, pg.grid, kThreads, 0)(gy, gx, planes, pg.per_group, H, W, OH, OW, taps_h,
      ranges_h, taps_w, ranges_w);
  deallocate(work, bytes, Device::cuda());
}

}  // namespace pmsdsen::cuda
