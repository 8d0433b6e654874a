#include "cuda/activation.h"

#include "core/activation_math.h"
#include "core/allocator.h"
#include "cuda/channel_reduce.cuh"
#include "cuda/elementwise.cuh"
#include "cuda/reduce.cuh"

namespace pmsdsen::cuda {
namespace {

struct Gelu {
  __device__ float operator()(float x) const { return hd::gelu(x); }
};
struct GeluGrad {
  __device__ float operator()(float g, float x) const { return g * hd::gelu_grad(x); }
};
struct Leaky {
  float slope;
  __device__ float operator()(float x) const { return hd::leaky(x, slope); }
};
struct LeakyGrad {
  float slope;
  __device__ float operator()(float g, float x) const { return g * hd::leaky_grad(x, slope); }
};
struct Sigmoid {
  __device__ float operator()(float x) const { return hd::sigmoid(x); }
};
struct SigmoidGrad {
  __device__ float operator()(float g, float y) const { return g * hd::sigmoid_grad_from_output(y); }
};

struct PreluOp {
  const float* slope;
  int64_t count;
  __device__ Leaky channel(int64_t c) const { return {slope[count == 1 ? 0 : c]}; }
};
struct PreluGradOp {
  const float* slope;
  int64_t count;
  __device__ LeakyGrad channel(int64_t c) const { return {slope[count == 1 ? 0 : c]}; }
};

// Per piece of a channel: sum of gy * d(prelu)/d(slope).
__global__ void __launch_bounds__(kReduceThreads)
prelu_slope_partials_kernel(const float* __restrict__ gy, const float* __restrict__ x, int64_t C, int64_t S,
                            int64_t pieces, float* __restrict__ partial) {
  const PieceRange r = piece_of_block(C, S, pieces);
  float acc = 0.f;
  for (int i = threadIdx.x; i < r.len; i += blockDim.x)
    acc += gy[r.offset + i] * hd::prelu_slope_grad(x[r.offset + i]);
  acc = block_sum(acc);
  if (threadIdx.x == 0) partial[blockIdx.y * gridDim.x + blockIdx.x] = acc;
}

// Block b sums partial[b * count .. (b + 1) * count) in a fixed order into out[b].
__global__ void __launch_bounds__(kReduceThreads)
sum_rows_kernel(const float* __restrict__ partial, int64_t count, float* __restrict__ out) {
  const float* row = partial + blockIdx.x * count;
  double acc = 0.0;
  for (int64_t j = threadIdx.x; j < count; j += blockDim.x) acc += row[j];
  acc = block_sum(acc);
  if (threadIdx.x == 0) out[blockIdx.x] = static_cast<float>(acc);
}

__global__ void softmax_groups_forward_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t total,
                                              int64_t G, int64_t CS) {
  PMSDSEN_GRID_STRIDE(i, total) {
    const int64_t base = (i / CS) * G * CS + i % CS;
    float m = x[base];
    for (int64_t g = 1; g < G; ++g) m = fmaxf(m, x[base + g * CS]);
    float sum = 0.f;
    for (int64_t g = 0; g < G; ++g) sum += expf(x[base + g * CS] - m);
    const float inv = 1.f / sum;
    for (int64_t g = 0; g < G; ++g) y[base + g * CS] = expf(x[base + g * CS] - m) * inv;
  }
}

__global__ void softmax_groups_backward_kernel(const float* __restrict__ gy, const float* __restrict__ y,
                                               float* __restrict__ gx, int64_t total, int64_t G, int64_t CS) {
  PMSDSEN_GRID_STRIDE(i, total) {
    const int64_t base = (i / CS) * G * CS + i % CS;
    float dot = 0.f;
    for (int64_t g = 0; g < G; ++g) dot += y[base + g * CS] * gy[base + g * CS];
    for (int64_t g = 0; g < G; ++g) {
      const int64_t j = base + g * CS;
      gx[j] = y[j] * (gy[j] - dot);
    }
  }
}

// One (sample, channel) plane per grid row; x and y may be the same memory (no
// __restrict__ on them: each element is read and written by one thread).
// total/first: the planes are channels [first, first + C) of a tensor of `total` channels.
template <bool kVec>
__global__ void epilogue_kernel(const float* x, float* y, int64_t planes, int64_t C, int64_t S,
                                Epilogue<float> e, int64_t total, int64_t first) {
  for (int64_t plane = blockIdx.y; plane < planes; plane += gridDim.y) {
    const hd::EpiPlane<float> p = hd::epilogue_plane(e, plane, C);
    const int64_t base = ((plane / C) * total + first + plane % C) * S;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
    const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    const bool res = e.residual != nullptr;
    if constexpr (kVec) {
      const float4* xp = reinterpret_cast<const float4*>(x + base);
      const float4* rp = res ? reinterpret_cast<const float4*>(e.residual + base) : nullptr;
      float4* yp = reinterpret_cast<float4*>(y + base);
      for (int64_t i = first; i < S / 4; i += stride) {
        const float4 v = xp[i];
        const float4 r = res ? rp[i] : make_float4(0.f, 0.f, 0.f, 0.f);
        yp[i] = make_float4(hd::epilogue_value(p, res, v.x, r.x), hd::epilogue_value(p, res, v.y, r.y),
                            hd::epilogue_value(p, res, v.z, r.z), hd::epilogue_value(p, res, v.w, r.w));
      }
    } else {
      for (int64_t i = first; i < S; i += stride)
        y[base + i] = hd::epilogue_value(p, res, x[base + i], res ? e.residual[base + i] : 0.f);
    }
  }
}

}  // namespace

void gelu_forward(const float* x, float* y, int64_t n) { flat_map(x, y, n, Gelu{}); }
void gelu_backward(const float* gy, const float* x, float* gx, int64_t n) { flat_map(gy, x, gx, n, GeluGrad{}); }
void leaky_relu_forward(const float* x, float slope, float* y, int64_t n) { flat_map(x, y, n, Leaky{slope}); }
void leaky_relu_backward(const float* gy, const float* x, float slope, float* gx, int64_t n) {
  flat_map(gy, x, gx, n, LeakyGrad{slope});
}
void sigmoid_forward(const float* x, float* y, int64_t n) { flat_map(x, y, n, Sigmoid{}); }
void sigmoid_backward(const float* gy, const float* y, float* gx, int64_t n) {
  flat_map(gy, y, gx, n, SigmoidGrad{});
}

void prelu_forward(const float* x, const float* slope, int64_t slope_count, float* y, int64_t N, int64_t C,
                   int64_t S) {
  channel_map(x, y, N * C, C, S, PreluOp{slope, slope_count});
}

void prelu_backward(const float* gy, const float* x, const float* slope, int64_t slope_count, float* gx,
                    float* gslope, int64_t N, int64_t C, int64_t S) {
  if (gx) channel_map(gy, x, gx, N * C, C, S, PreluGradOp{slope, slope_count});
  if (!gslope || C == 0) return;
  const ChannelPieces pieces(N, C, S);
  if (pieces.per_channel == 0) {
    PMSDSEN_CUDA_CHECK(cudaMemsetAsync(gslope, 0, slope_count * sizeof(float), cuda_env::stream()));
    return;
  }
  const size_t bytes = pieces.count() * sizeof(float);
  float* partial = static_cast<float*>(allocate(bytes, Device::cuda()));
  PMSDSEN_LAUNCH(prelu_slope_partials_kernel, pieces.grid(), pieces.threads, 0)(gy, x, C, S, pieces.pieces,
      partial);
  // Per channel, or all channels into the one shared slope.
  const unsigned rows = slope_count == 1 ? 1u : static_cast<unsigned>(C);
  const int64_t count = pieces.count() / rows;
  PMSDSEN_LAUNCH(sum_rows_kernel, rows, reduce_threads(count, 4, kReduceThreads), 0)(partial, count, gslope);
  deallocate(partial, bytes, Device::cuda());
}

void softmax_groups_forward(const float* x, float* y, int64_t N, int64_t G, int64_t C, int64_t S) {
  const int64_t total = N * C * S;
  if (total == 0) return;
  PMSDSEN_LAUNCH(softmax_groups_forward_kernel, grid_for(total), kThreads, 0)(x, y, total, G, C * S);
}

void softmax_groups_backward(const float* gy, const float* y, float* gx, int64_t N, int64_t G, int64_t C,
                             int64_t S) {
  const int64_t total = N * C * S;
  if (total == 0) return;
  PMSDSEN_LAUNCH(softmax_groups_backward_kernel, grid_for(total), kThreads, 0)(gy, y, gx, total, G, C * S);
}

void epilogue(const float* x, float* y, int64_t N, int64_t C, int64_t S, const Epilogue<float>& e) {
  const int64_t planes = N * C;
  if (planes == 0 || S == 0) return;
  const bool vec = S % 4 == 0 && detail::aligned16(x) && detail::aligned16(y) &&
                   (!e.residual || detail::aligned16(e.residual));
  const dim3 grid = detail::plane_grid(planes, vec ? S / 4 : S);
  if (vec) PMSDSEN_LAUNCH(epilogue_kernel<true>, grid, kThreads, 0)(x, y, planes, C, S, e, C, int64_t{0});
  else PMSDSEN_LAUNCH(epilogue_kernel<false>, grid, kThreads, 0)(x, y, planes, C, S, e, C, int64_t{0});
}

void epilogue_window(float* y, int64_t N, int64_t C, int64_t S, int64_t total, int64_t first,
                     const Epilogue<float>& e) {
  PMSDSEN_CHECK(!e.residual && !e.scale && !e.residual_scale, "epilogue_window: per-channel terms only");
  const int64_t planes = N * C;
  if (planes == 0 || S == 0) return;
  const bool vec = S % 4 == 0 && detail::aligned16(y);
  const dim3 grid = detail::plane_grid(planes, vec ? S / 4 : S);
  if (vec) PMSDSEN_LAUNCH(epilogue_kernel<true>, grid, kThreads, 0)(y, y, planes, C, S, e, total, first);
  else PMSDSEN_LAUNCH(epilogue_kernel<false>, grid, kThreads, 0)(y, y, planes, C, S, e, total, first);
}

}  // namespace pmsdsen::cuda
