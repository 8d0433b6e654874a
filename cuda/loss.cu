#include "cuda/loss.h"

#include <cub/cub.cuh>

#include <cmath>

#include "core/allocator.h"
#include "cuda/launch.cuh"
#include "cuda/reduce.cuh"

namespace pmsdsen::cuda {
namespace {

__device__ __forceinline__ bool counted(int64_t t, int64_t K, int64_t ignore_index) {
  return t != ignore_index && t >= 0 && t < K;
}

// One thread per pixel; the K logits of a pixel are S apart, so a warp reads them coalesced.
__global__ void pixels_kernel(const float* __restrict__ x, const int64_t* __restrict__ target, int64_t pixels,
                              int64_t K, int64_t S, int64_t ignore_index, float* __restrict__ lse,
                              float* __restrict__ nll, float* __restrict__ prob) {
  PMSDSEN_GRID_STRIDE(i, pixels) {
    const int64_t n = i / S, s = i - n * S;
    const float* xp = x + n * K * S + s;
    float m = xp[0];
    for (int64_t k = 1; k < K; ++k) m = fmaxf(m, xp[k * S]);
    float sum = 0.f;
    for (int64_t k = 0; k < K; ++k) sum += expf(xp[k * S] - m);
    const float log_sum = logf(sum);
    lse[i] = m + log_sum;
    const int64_t t = target[i];
    const bool valid = counted(t, K, ignore_index);
    const float xt = valid ? xp[t * S] : 0.f;
    nll[i] = valid ? -((xt - m) - log_sum) : 0.f;
    if (prob) prob[i] = valid ? expf(xt - m) / sum : 1.f;
  }
}

// Sort keys: the target probability of counted pixels, +inf for the others (sorted last).
__global__ void ohem_keys_kernel(const float* __restrict__ prob, const int64_t* __restrict__ target, int64_t pixels,
                                 int64_t K, int64_t ignore_index, float* __restrict__ keys) {
  PMSDSEN_GRID_STRIDE(i, pixels) keys[i] = counted(target[i], K, ignore_index) ? prob[i] : INFINITY;
}

// One thread: n_valid is where +inf starts in the sorted keys (binary search).
__global__ void ohem_pick_kernel(const float* __restrict__ sorted, int64_t pixels, int64_t min_kept, float thresh,
                                 float* __restrict__ threshold) {
  int64_t lo = 0, hi = pixels;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (sorted[mid] < INFINITY) lo = mid + 1;
    else hi = mid;
  }
  const int64_t n_valid = lo;
  if (n_valid == 0) {
    threshold[0] = thresh;
    return;
  }
  const int64_t k = min_kept < n_valid - 1 ? min_kept : n_valid - 1;
  threshold[0] = fmaxf(sorted[k], thresh);
}

struct SelectPartial {
  double num, den;
  long long bad;
};

constexpr int kSelectBlocks = 1024;

// Grid size fixed by the pixel count: a reproducible summation order.
__global__ void select_kernel(const int64_t* __restrict__ target, const float* __restrict__ nll,
                              const float* __restrict__ prob, const float* __restrict__ weight, int64_t pixels,
                              int64_t K, int64_t ignore_index, bool ohem, const float* __restrict__ threshold,
                              float* __restrict__ coef, SelectPartial* __restrict__ partial) {
  const float thr = ohem ? threshold[0] : 0.f;
  double num = 0.0, den = 0.0;
  long long bad = 0;
  PMSDSEN_GRID_STRIDE(i, pixels) {
    const int64_t t = target[i];
    const bool valid = counted(t, K, ignore_index);
    if (!valid && t != ignore_index) ++bad;
    const bool keep = valid && (!ohem || prob[i] < thr);
    const float w = keep ? (weight ? weight[t] : 1.f) : 0.f;
    coef[i] = w;
    num += static_cast<double>(w) * nll[i];
    den += ohem ? (keep ? 1.0 : 0.0) : static_cast<double>(w);
  }
  num = block_sum(num);
  den = block_sum(den);
  bad = block_sum(bad);
  if (threadIdx.x == 0) partial[blockIdx.x] = {num, den, bad};
}

__global__ void select_finalize_kernel(const SelectPartial* __restrict__ partial, int count, float* __restrict__ loss,
                                       float* __restrict__ den_out, int64_t* __restrict__ bad_out) {
  double num = 0.0, den = 0.0;
  long long bad = 0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) {
    num += partial[i].num;
    den += partial[i].den;
    bad += partial[i].bad;
  }
  num = block_sum(num);
  den = block_sum(den);
  bad = block_sum(bad);
  if (threadIdx.x == 0) {
    loss[0] = static_cast<float>(den > 0.0 ? num / den : 0.0);
    den_out[0] = static_cast<float>(den);
    bad_out[0] = bad;
  }
}

// Grid: x over the pixels of a sample, y over the (n, k) planes.
__global__ void backward_kernel(const float* __restrict__ x, const int64_t* __restrict__ target,
                                const float* __restrict__ lse, const float* __restrict__ coef,
                                const float* __restrict__ grad_loss, const float* __restrict__ den,
                                float* __restrict__ gx, int64_t N, int64_t K, int64_t S) {
  const float d = den[0];
  const float scale = d > 0.f ? grad_loss[0] / d : 0.f;
  for (int64_t plane = blockIdx.y; plane < N * K; plane += gridDim.y) {
    const int64_t n = plane / K, k = plane - n * K;
    for (int64_t s = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; s < S;
         s += static_cast<int64_t>(gridDim.x) * blockDim.x) {
      const int64_t p = n * S + s;
      const float c = coef[p];
      const int64_t i = plane * S + s;
      gx[i] = c == 0.f ? 0.f : scale * c * (expf(x[i] - lse[p]) - (target[p] == k ? 1.f : 0.f));
    }
  }
}

}  // namespace

void cross_entropy_pixels(const float* x, const int64_t* target, int64_t N, int64_t K, int64_t S,
                          int64_t ignore_index, float* lse, float* nll, float* prob) {
  const int64_t pixels = N * S;
  if (pixels == 0) return;
  PMSDSEN_LAUNCH(pixels_kernel, grid_for(pixels), kThreads, 0)(x, target, pixels, K, S, ignore_index, lse, nll,
      prob);
}

void ohem_threshold(const float* prob, const int64_t* target, int64_t pixels, int64_t K, int64_t ignore_index,
                    int64_t min_kept, double thresh, float* threshold) {
  if (pixels == 0) {  // no pixel counts: the threshold is thresh
    PMSDSEN_LAUNCH(ohem_pick_kernel, 1, 1, 0)(nullptr, 0, min_kept, static_cast<float>(thresh), threshold);
    return;
  }
  PMSDSEN_CHECK(pixels < (int64_t(1) << 31), "cross_entropy (ohem): ", pixels, " pixels exceed the sort's limit");
  const int n = static_cast<int>(pixels);
  size_t temp_bytes = 0;
  PMSDSEN_CUDA_CHECK(cub::DeviceRadixSort::SortKeys(nullptr, temp_bytes, static_cast<const float*>(nullptr),
                                                    static_cast<float*>(nullptr), n, 0, 32, cuda_env::stream()));
  const size_t key_bytes = static_cast<size_t>(pixels) * sizeof(float);
  const size_t temp_offset = (2 * key_bytes + 255) / 256 * 256;
  const size_t bytes = temp_offset + temp_bytes;
  char* work = static_cast<char*>(allocate(bytes, Device::cuda()));
  float* keys = reinterpret_cast<float*>(work);
  float* sorted = reinterpret_cast<float*>(work + key_bytes);
  PMSDSEN_LAUNCH(ohem_keys_kernel, grid_for(pixels), kThreads, 0)(prob, target, pixels, K, ignore_index, keys);
  PMSDSEN_CUDA_CHECK(cub::DeviceRadixSort::SortKeys(work + temp_offset, temp_bytes, keys, sorted, n, 0, 32,
                                                    cuda_env::stream()));
  PMSDSEN_LAUNCH(ohem_pick_kernel, 1, 1, 0)(sorted, pixels, min_kept, static_cast<float>(thresh), threshold);
  deallocate(work, bytes, Device::cuda());
}

void cross_entropy_select(const int64_t* target, const float* nll, const float* prob, const float* weight,
                          int64_t pixels, int64_t K, int64_t ignore_index, bool ohem, const float* threshold,
                          float* coef, float* loss, float* den, int64_t* bad) {
  const int blocks = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(kSelectBlocks, (pixels + kThreads - 1) / kThreads)));
  const size_t bytes = blocks * sizeof(SelectPartial);
  SelectPartial* partial = static_cast<SelectPartial*>(allocate(bytes, Device::cuda()));
  PMSDSEN_LAUNCH(select_kernel, blocks, kThreads, 0)(target, nll, prob, weight, pixels, K, ignore_index, ohem,
      threshold, coef, partial);
  PMSDSEN_LAUNCH(select_finalize_kernel, 1, reduce_threads(blocks, 4, kThreads), 0)(partial, blocks, loss, den,
      bad);
  deallocate(partial, bytes, Device::cuda());
}

void cross_entropy_backward(const float* x, const int64_t* target, const float* lse, const float* coef,
                            const float* grad_loss, const float* den, float* gx, int64_t N, int64_t K, int64_t S) {
  if (N * K * S == 0) return;
  const dim3 grid(static_cast<unsigned>(std::min<int64_t>((S + kThreads - 1) / kThreads, 4096)),
                  static_cast<unsigned>(std::min<int64_t>(N * K, 65535)));
  PMSDSEN_LAUNCH(backward_kernel, grid, kThreads, 0)(x, target, lse, coef, grad_loss, den, gx, N, K, S);
}

}  // namespace pmsdsen::cuda
