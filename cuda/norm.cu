#include "cuda/norm.h"

#include "core/allocator.h"
#include "cuda/channel_reduce.cuh"
#include "cuda/elementwise.cuh"
#include "cuda/reduce.cuh"

namespace pmsdsen::cuda {
namespace {

// Per piece: its mean and the sum of squared deviations from that mean. The piece stays
// in registers between the two passes, so x is read once.
__global__ void __launch_bounds__(kReduceThreads)
piece_stats_kernel(const float* __restrict__ x, int64_t C, int64_t S, int64_t pieces,
                   float2* __restrict__ partial) {
  const PieceRange r = piece_of_block(C, S, pieces);
  const float* p = x + r.offset;
  float v[kReducePerThread];
  float sum = 0.f;
#pragma unroll
  for (int t = 0; t < kReducePerThread; ++t) {
    const int i = threadIdx.x + t * blockDim.x;
    v[t] = i < r.len ? p[i] : 0.f;
    sum += v[t];
  }
  PMSDSEN_SHARED(float, s_mean);
  sum = block_sum(sum);
  if (threadIdx.x == 0) s_mean = sum / static_cast<float>(r.len);
  __syncthreads();
  const float m = s_mean;
  float m2 = 0.f;
#pragma unroll
  for (int t = 0; t < kReducePerThread; ++t) {
    const int i = threadIdx.x + t * blockDim.x;
    const float d = v[t] - m;
    if (i < r.len) m2 += d * d;
  }
  m2 = block_sum(m2);
  if (threadIdx.x == 0) partial[blockIdx.y * gridDim.x + blockIdx.x] = make_float2(m, m2);
}

// One block per channel: merges the pieces exactly (in double, fixed order), writes
// mean, invstd, the folded affine map and updates the running statistics.
__global__ void __launch_bounds__(kReduceThreads)
finalize_stats_kernel(const float2* __restrict__ partial, int64_t S, int64_t pieces, int64_t per_channel,
                      const float* __restrict__ weight, const float* __restrict__ bias,
                      float* __restrict__ running_mean, float* __restrict__ running_var, double momentum,
                      double eps, float* __restrict__ mean, float* __restrict__ invstd,
                      float* __restrict__ scale, float* __restrict__ shift) {
  const int64_t c = blockIdx.x;
  const float2* pc = partial + c * per_channel;
  const double M = static_cast<double>(per_channel / pieces) * static_cast<double>(S);
  double acc = 0.0;
  for (int64_t j = threadIdx.x; j < per_channel; j += blockDim.x)
    acc += static_cast<double>(pc[j].x) * static_cast<double>(piece_length(j, S, pieces));
  PMSDSEN_SHARED(double, s_mu);
  acc = block_sum(acc);
  if (threadIdx.x == 0) s_mu = acc / M;
  __syncthreads();
  const double mu = s_mu;
  double m2 = 0.0;
  for (int64_t j = threadIdx.x; j < per_channel; j += blockDim.x) {
    const double d = static_cast<double>(pc[j].x) - mu;
    m2 += static_cast<double>(pc[j].y) + d * d * static_cast<double>(piece_length(j, S, pieces));
  }
  m2 = block_sum(m2);
  if (threadIdx.x == 0) {
    const double is = 1.0 / sqrt(m2 / M + eps);
    const double sc = (weight ? static_cast<double>(weight[c]) : 1.0) * is;
    mean[c] = static_cast<float>(mu);
    invstd[c] = static_cast<float>(is);
    scale[c] = static_cast<float>(sc);
    shift[c] = static_cast<float>((bias ? static_cast<double>(bias[c]) : 0.0) - mu * sc);
    if (running_mean) {
      running_mean[c] = static_cast<float>((1.0 - momentum) * running_mean[c] + momentum * mu);
      running_var[c] = static_cast<float>((1.0 - momentum) * running_var[c] + momentum * m2 / (M - 1.0));
    }
  }
}

__global__ void eval_params_kernel(const float* __restrict__ running_mean, const float* __restrict__ running_var,
                                   const float* __restrict__ weight, const float* __restrict__ bias, int64_t C,
                                   double eps, float* __restrict__ mean, float* __restrict__ invstd,
                                   float* __restrict__ scale, float* __restrict__ shift) {
  PMSDSEN_GRID_STRIDE(c, C) {
    const double mu = running_mean[c];
    const double is = 1.0 / sqrt(static_cast<double>(running_var[c]) + eps);
    const double sc = (weight ? static_cast<double>(weight[c]) : 1.0) * is;
    mean[c] = static_cast<float>(mu);
    invstd[c] = static_cast<float>(is);
    scale[c] = static_cast<float>(sc);
    shift[c] = static_cast<float>((bias ? static_cast<double>(bias[c]) : 0.0) - mu * sc);
  }
}

// Per piece: sum gy and sum gy * (x - mean).
__global__ void __launch_bounds__(kReduceThreads)
backward_partials_kernel(const float* __restrict__ gy, const float* __restrict__ x,
                         const float* __restrict__ mean, int64_t C, int64_t S, int64_t pieces,
                         float2* __restrict__ partial) {
  const PieceRange r = piece_of_block(C, S, pieces);
  const float mu = mean[blockIdx.y];
  float s0 = 0.f, s1 = 0.f;
  for (int i = threadIdx.x; i < r.len; i += blockDim.x) {
    const float g = gy[r.offset + i];
    s0 += g;
    s1 += g * (x[r.offset + i] - mu);
  }
  s0 = block_sum(s0);
  s1 = block_sum(s1);
  if (threadIdx.x == 0) partial[blockIdx.y * gridDim.x + blockIdx.x] = make_float2(s0, s1);
}

// gx = A gy + B (x - mean) + K, per channel.
struct GxCoef {
  float a, b, k, mu;
};

// One block per channel: the weight/bias gradients and the gx coefficients.
__global__ void __launch_bounds__(kReduceThreads)
backward_finalize_kernel(const float2* __restrict__ partial, int64_t per_channel, double M,
                         const float* __restrict__ mean, const float* __restrict__ invstd,
                         const float* __restrict__ weight, bool training, float* __restrict__ gweight,
                         float* __restrict__ gbias, GxCoef* __restrict__ coef) {
  const int64_t c = blockIdx.x;
  double s0 = 0.0, s1 = 0.0;
  if (partial) {
    const float2* pc = partial + c * per_channel;
    for (int64_t j = threadIdx.x; j < per_channel; j += blockDim.x) {
      s0 += pc[j].x;
      s1 += pc[j].y;
    }
    s0 = block_sum(s0);
    s1 = block_sum(s1);
  }
  if (threadIdx.x == 0) {
    const double is = invstd[c];
    if (gbias) gbias[c] = static_cast<float>(s0);
    if (gweight) gweight[c] = static_cast<float>(s1 * is);
    const double a = (weight ? static_cast<double>(weight[c]) : 1.0) * is;
    coef[c] = {static_cast<float>(a), static_cast<float>(training ? -a * is * is * s1 / M : 0.0),
               static_cast<float>(training ? -a * s0 / M : 0.0), mean[c]};
  }
}

struct ApplyOp {
  const float* scale;
  const float* shift;
  struct K {
    float a, b;
    __device__ float operator()(float x) const { return x * a + b; }
  };
  __device__ K channel(int64_t c) const { return {scale[c], shift[c]}; }
};

struct GxOp {
  const GxCoef* coef;
  struct K {
    GxCoef q;
    __device__ float operator()(float g, float x) const { return q.a * g + q.b * (x - q.mu) + q.k; }
  };
  __device__ K channel(int64_t c) const { return {coef[c]}; }
};

}  // namespace

void batch_norm_train_stats(const float* x, int64_t N, int64_t C, int64_t S, const float* weight,
                            const float* bias, float* running_mean, float* running_var, double momentum,
                            double eps, float* mean, float* invstd, float* scale, float* shift) {
  if (C == 0) return;
  const ChannelPieces pieces(N, C, S);
  const size_t bytes = pieces.count() * sizeof(float2);
  float2* partial = static_cast<float2*>(allocate(bytes, Device::cuda()));
  PMSDSEN_LAUNCH(piece_stats_kernel, pieces.grid(), pieces.threads, 0)(x, C, S, pieces.pieces, partial);
  PMSDSEN_LAUNCH(finalize_stats_kernel, static_cast<unsigned>(C), reduce_threads(pieces.per_channel, 4, kReduceThreads), 0)(
      partial, S, pieces.pieces, pieces.per_channel, weight, bias, running_mean, running_var, momentum, eps, mean,
      invstd, scale, shift);
  deallocate(partial, bytes, Device::cuda());  // stream-ordered: safe after the launches
}

void batch_norm_eval_params(const float* running_mean, const float* running_var, const float* weight,
                            const float* bias, int64_t C, double eps, float* mean, float* invstd, float* scale,
                            float* shift) {
  if (C == 0) return;
  PMSDSEN_LAUNCH(eval_params_kernel, grid_for(C), kThreads, 0)(running_mean, running_var, weight, bias, C, eps,
      mean, invstd, scale, shift);
}

void batch_norm_apply(const float* x, const float* scale, const float* shift, float* y, int64_t N, int64_t C,
                      int64_t S) {
  channel_map(x, y, N * C, C, S, ApplyOp{scale, shift});
}

void batch_norm_backward(const float* gy, const float* x, const float* mean, const float* invstd,
                         const float* weight, int64_t N, int64_t C, int64_t S, bool training, float* gx,
                         float* gweight, float* gbias) {
  if (C == 0) return;
  const bool need_sums = training || gweight || gbias;
  const ChannelPieces pieces(N, C, S);
  const size_t partial_bytes = need_sums ? pieces.count() * sizeof(float2) : 0;
  const size_t bytes = partial_bytes + C * sizeof(GxCoef);
  char* work = static_cast<char*>(allocate(bytes, Device::cuda()));
  float2* partial = need_sums ? reinterpret_cast<float2*>(work) : nullptr;
  GxCoef* coef = reinterpret_cast<GxCoef*>(work + partial_bytes);
  if (need_sums) {
    PMSDSEN_LAUNCH(backward_partials_kernel, pieces.grid(), pieces.threads, 0)(gy, x, mean, C, S, pieces.pieces,
        partial);
  }
  PMSDSEN_LAUNCH(backward_finalize_kernel, static_cast<unsigned>(C), reduce_threads(pieces.per_channel, 4, kReduceThreads), 0)(
      partial, pieces.per_channel, static_cast<double>(N) * static_cast<double>(S), mean, invstd, weight, training,
      gweight, gbias, coef);
  if (gx) channel_map(gy, x, gx, N * C, C, S, GxOp{coef});
  deallocate(work, bytes, Device::cuda());
}

}  // namespace pmsdsen::cuda
