// 1x1 convolution with its epilogue, for inference (ops::conv2d_epilogue and
// ops::conv2d_epilogue_into): PMSDSEN's pointwise convolutions have few channels (4 to
// 320 in, 4 to 128 out) over many pixels, a product cuBLAS runs as a tall-skinny GEMM
// followed by a separate epilogue pass. Here each block computes kCo output channels for
// 256 pixels of one sample: the weights of those channels are staged in shared memory
// (every lane of a warp reads the same word: a broadcast), each thread keeps kCo sums for
// its pixel and reads its input column once (coalesced across the warp), and the epilogue
// is applied before the (coalesced) stores, so the output is written once. Input and
// output may be channel windows of larger tensors (core/conv_math.h).
#include <algorithm>

#include "core/epilogue_math.h"
#include "cuda/conv.h"
#include "cuda/conv_internal.h"
#include "cuda/launch.cuh"

namespace pmsdsen::cuda {
namespace {

constexpr int kCo = 16;          // output channels per block
constexpr int kPixels = 256;     // pixels per block, one a thread
constexpr int kMaxCin = 768;     // kCo * kMaxCin floats of weights: 48 KiB of shared memory
constexpr unsigned kMaxGridYZ = 65535;

__global__ void __launch_bounds__(kPixels)
    pointwise_kernel(const float* __restrict__ x, const float* __restrict__ w, float* __restrict__ y, int64_t plane,
                     int cin, int cout, ConvWindows<float> win, Epilogue<float> epi, int64_t n0) {
  PMSDSEN_DYNAMIC_SHARED(float, ws);  // [kCo][cin]
  const int co0 = blockIdx.y * kCo;
  const int count = cout - co0 < kCo ? cout - co0 : kCo;
  const int64_t n = n0 + blockIdx.z;
  for (int i = threadIdx.x; i < kCo * cin; i += blockDim.x) {
    const int j = i / cin, ci = i % cin;
    // A per-sample input scale goes into this block's (one sample's) weights: W diag(s_n).
    const float scale = win.x_scale ? win.x_scale[n * cin + ci] : 1.f;
    ws[i] = j < count ? w[static_cast<int64_t>(co0 + j) * cin + ci] * scale : 0.f;
  }
  __syncthreads();
  const int64_t p = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (p >= plane) return;
  float acc[kCo];
#pragma unroll
  for (int j = 0; j < kCo; ++j) acc[j] = 0.f;
  const float* xp = x + (n * win.x_total + win.x_first) * plane + p;
  for (int ci = 0; ci < cin; ++ci) {
    const float v = __ldg(xp + ci * plane);
#pragma unroll
    for (int j = 0; j < kCo; ++j) acc[j] = fmaf(ws[j * cin + ci], v, acc[j]);
  }
#pragma unroll
  for (int j = 0; j < kCo; ++j) {
    if (j >= count) break;
    const int c = co0 + j;
    const int64_t dense = (n * cout + c) * plane + p;  // the epilogue's operands are dense
    const hd::EpiPlane<float> ep = hd::epilogue_plane(epi, n * cout + c, cout);
    y[(n * win.y_total + win.y_first + c) * plane + p] =
        hd::epilogue_value(ep, epi.residual != nullptr, acc[j], epi.residual ? epi.residual[dense] : 0.f);
  }
}

}  // namespace

bool use_pointwise_kernel(const ConvShape& s) {
  return s.is_pointwise() && s.groups == 1 && s.in_channels <= kMaxCin && s.out_channels <= kMaxGridYZ * kCo;
}

void pointwise_forward_epilogue(const ConvShape& s, const ConvWindows<float>& win, const float* x, const float* w,
                                float* y, const Epilogue<float>& epi) {
  PMSDSEN_CHECK(use_pointwise_kernel(s), "pointwise kernel (CUDA): needs a 1x1 stride-1 convolution of at most ",
                kMaxCin, " input channels");
  const int64_t plane = s.out_plane();
  if (s.batch == 0 || plane == 0 || s.out_channels == 0) return;
  const size_t shared = sizeof(float) * kCo * static_cast<size_t>(s.in_channels);
  for (int64_t n0 = 0; n0 < s.batch; n0 += kMaxGridYZ) {
    const dim3 grid(static_cast<unsigned>((plane + kPixels - 1) / kPixels),
                    static_cast<unsigned>((s.out_channels + kCo - 1) / kCo),
                    static_cast<unsigned>(std::min<int64_t>(kMaxGridYZ, s.batch - n0)));
    PMSDSEN_LAUNCH(pointwise_kernel, grid, kPixels, shared)(x, w, y, plane, static_cast<int>(s.in_channels),
                                                            static_cast<int>(s.out_channels), win, epi, n0);
  }
}

}  // namespace pmsdsen::cuda
