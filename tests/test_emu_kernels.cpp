// The emulated GPU's execution model: barriers, warp collectives, shared memory and
// atomics behave as CUDA specifies them, and what a GPU would hang on or silently get
// wrong (a barrier or collective not every thread reaches, bad masks, shared memory
// overruns, launch limits) is an error naming the kernel, the block and the threads.
#include <cuda_runtime.h>  // what nvcc makes visible to every .cu file

#include <cmath>

#include "core/tensor.h"
#include "cuda/launch.cuh"
#include "cuda/reduce.cuh"
#include "tests/test_emu_util.h"

using namespace pmsdsen;
using test::contains_all;
using test::DeviceArray;
using test::launch_error;

namespace {

__global__ void block_sum_kernel(const float* x, float* out, int n) {
  float v = 0.f;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) v += x[i];
  v = cuda::block_sum(v);
  if (threadIdx.x == 0) out[blockIdx.x] = v;
}

enum ShuffleKind { kDown, kUp, kXor, kIndex };

__global__ void shuffle_kernel(int* out, int kind, int arg, int width) {
  const int v = 1000 + static_cast<int>(threadIdx.x);
  int r = 0;
  switch (kind) {
    case kDown: r = __shfl_down_sync(0xffffffffu, v, static_cast<unsigned>(arg), width); break;
    case kUp: r = __shfl_up_sync(0xffffffffu, v, static_cast<unsigned>(arg), width); break;
    case kXor: r = __shfl_xor_sync(0xffffffffu, v, arg, width); break;
    case kIndex: r = __shfl_sync(0xffffffffu, v, arg, width); break;
  }
  out[threadIdx.x] = r;
}

// CUDA's rule for the lane a shuffle reads, written out independently of the emulator.
int expected_shuffle(int kind, int lane, int arg, int width) {
  const int base = lane / width * width;
  int src = lane;
  if (kind == kDown) src = lane % width + arg < width ? lane + arg : lane;
  if (kind == kUp) src = lane % width >= arg ? lane - arg : lane;
  if (kind == kXor) src = (lane ^ arg) < base + width ? lane ^ arg : lane;
  if (kind == kIndex) src = base + ((arg % width) + width) % width;
  return 1000 + src;
}

__global__ void ballot_kernel(unsigned* out) {
  out[threadIdx.x] = __ballot_sync(0xffffffffu, threadIdx.x % 3 == 0);
}

__global__ void half_warp_kernel(int* out) {
  if (threadIdx.x >= 16) return;  // only lanes 0-15 take part, and the mask says so
  out[threadIdx.x] = __shfl_xor_sync(0x0000ffffu, static_cast<int>(threadIdx.x), 1);
}

__global__ void early_exit_barrier_kernel(float* out) {
  if (threadIdx.x >= 100) return;
  __syncthreads();
  out[threadIdx.x] = 1.f;
}

__global__ void split_barrier_kernel(float* out) {
  if (threadIdx.x < 32) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1.f;
}

__global__ void mask_without_self_kernel(float* out) {
  out[threadIdx.x] = __shfl_down_sync(0x1u, 1.f, 1);
}

__global__ void exited_lane_kernel(float* out) {
  if (threadIdx.x >= 16) return;
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, 1.f, 1);
}

__global__ void mixed_collectives_kernel(int* out) {
  const int v = static_cast<int>(threadIdx.x);
  out[threadIdx.x] = threadIdx.x % 2 ? __shfl_xor_sync(0xffffffffu, v, 1) : __shfl_down_sync(0xffffffffu, v, 1);
}

// Each block records whether its shared memory started poisoned, then fills it with its
// own index and reads it back after a barrier.
__global__ void shared_per_block_kernel(float* first, float* after) {
  PMSDSEN_SHARED(float, cells, [64]);
  PMSDSEN_DYNAMIC_SHARED(float, dynamic);
  const unsigned t = threadIdx.x, b = blockIdx.x;
  first[b * 64 + t] = std::isnan(cells[t]) && std::isnan(dynamic[t]) ? 1.f : 0.f;
  __syncthreads();
  cells[t] = static_cast<float>(b);
  dynamic[63 - t] = static_cast<float>(b) + 0.5f;
  __syncthreads();
  after[b * 64 + t] = cells[63 - t] + dynamic[t];
}

__global__ void shared_overrun_kernel(float* out) {
  PMSDSEN_SHARED(float, cells, [64]);
  float* p = cells;      // through a pointer: past UBSan's bounds check, to AddressSanitizer
  p[threadIdx.x] = 1.f;  // 65 threads: one past the end
  if (threadIdx.x == 0) out[0] = 0.f;
}

__global__ void dynamic_overrun_kernel(float* out) {
  PMSDSEN_DYNAMIC_SHARED(float, cells);
  cells[threadIdx.x] = 1.f;  // one float more than the launch gave
  if (threadIdx.x == 0) out[0] = 0.f;
}

// Lanes 16-31 go through a full-warp shuffle that lanes 0-15, in its mask, never reach.
__global__ void missing_lanes_kernel(float* out) {
  if (threadIdx.x < 16) return;
  out[threadIdx.x] = __shfl_down_sync(0xffffffffu, 1.f, 1);
}

__global__ void big_shared_kernel(float* out) {
  PMSDSEN_SHARED(float, cells, [10 * 1024]);  // 40 KiB, plus the dynamic part
  cells[threadIdx.x] = 1.f;
  out[threadIdx.x] = cells[threadIdx.x];
}

__global__ void dynamic_shared_kernel(float* out, int n) {
  PMSDSEN_DYNAMIC_SHARED(float, cells);
  for (int i = threadIdx.x; i < n; i += blockDim.x) cells[i] = static_cast<float>(i);
  __syncthreads();
  if (threadIdx.x == 0) out[0] = cells[n - 1];
}

__global__ void count_kernel(unsigned long long* ull, float* f, int* i) {
  atomicAdd(ull, 1ull);
  atomicAdd(f, 0.5f);
  atomicMax(i, static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x));
}

__global__ void write_kernel(float* out, int n) {
  PMSDSEN_GRID_STRIDE(i, n) out[i] = static_cast<float>(i);
}

// Any grid and block shape: block (0, 0, 0) writes its linear thread index.
__global__ void first_block_kernel(float* out, int n) {
  if (blockIdx.x != 0 || blockIdx.y != 0 || blockIdx.z != 0) return;
  const unsigned t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  if (t < static_cast<unsigned>(n)) out[t] = static_cast<float>(t);
}

}  // namespace

TEST(EmuKernels, BlockSumOverWarpShufflesAndSharedMemory) {
  for (int n : {1, 255, 256, 1000, 70001}) {
    std::vector<float> x(n);
    for (int i = 0; i < n; ++i) x[i] = static_cast<float>(i % 7);
    DeviceArray<float> dx(x), out(8);
    PMSDSEN_LAUNCH(block_sum_kernel, 8, 256, 0)(dx.get(), out.get(), n);
    double total = 0;
    for (float v : out.host()) total += v;
    double want = 0;
    for (float v : x) want += v;
    EXPECT_EQ(total, want) << n;
  }
}

TEST(EmuKernels, ShufflesFollowCudaLaneRules) {
  DeviceArray<int> out(32);
  for (int kind : {kDown, kUp, kXor, kIndex})
    for (int width : {32, 16, 8, 4, 1})
      for (int arg : {0, 1, 3, 5, 16, 31}) {
        PMSDSEN_LAUNCH(shuffle_kernel, 1, 32, 0)(out.get(), kind, arg, width);
        const std::vector<int> got = out.host();
        for (int lane = 0; lane < 32; ++lane)
          ASSERT_EQ(got[lane], expected_shuffle(kind, lane, arg, width))
              << "kind " << kind << " width " << width << " arg " << arg << " lane " << lane;
      }
}

TEST(EmuKernels, BallotAndPartialMasks) {
  DeviceArray<unsigned> ballot(64);
  PMSDSEN_LAUNCH(ballot_kernel, 1, 64, 0)(ballot.get());
  const std::vector<unsigned> b = ballot.host();
  for (unsigned t = 0; t < 64; ++t) {
    unsigned want = 0;
    for (unsigned lane = 0; lane < 32; ++lane)
      if ((t / 32 * 32 + lane) % 3 == 0) want |= 1u << lane;
    EXPECT_EQ(b[t], want) << "thread " << t;
  }
  DeviceArray<int> half(32);
  PMSDSEN_LAUNCH(half_warp_kernel, 1, 32, 0)(half.get());
  const std::vector<int> h = half.host();
  for (int lane = 0; lane < 16; ++lane) EXPECT_EQ(h[lane], lane ^ 1);
}

TEST(EmuKernels, BarrierNotReachedByEveryThreadIsAnError) {
  DeviceArray<float> out(256);
  const std::string e = launch_error([&] { PMSDSEN_LAUNCH(early_exit_barrier_kernel, 2, 256, 0)(out.get()); });
  EXPECT_TRUE(contains_all(e, {"cudaErrorLaunchFailure", "early_exit_barrier_kernel", "block (0,0,0)",
                               "exited while threads 0-95 wait at __syncthreads()",
                               "test_emu_kernels.cpp"}));
  const std::string split = launch_error([&] { PMSDSEN_LAUNCH(split_barrier_kernel, 1, 64, 0)(out.get()); });
  EXPECT_TRUE(contains_all(split, {"split_barrier_kernel", "different barriers", "threads 0-31 at"}));
}

TEST(EmuKernels, WarpCollectiveMisuseIsAnError) {
  DeviceArray<float> out(64);
  DeviceArray<int> iout(64);
  EXPECT_TRUE(contains_all(launch_error([&] { PMSDSEN_LAUNCH(mask_without_self_kernel, 1, 32, 0)(out.get()); }),
                           {"mask_without_self_kernel", "__shfl_down_sync()", "(lane 31) passes mask 0x1",
                            "leaves out its own lane"}));
  EXPECT_TRUE(contains_all(launch_error([&] { PMSDSEN_LAUNCH(exited_lane_kernel, 1, 32, 0)(out.get()); }),
                           {"exited_lane_kernel", "__shfl_down_sync()", "mask 0xffffffff",
                            "lane 16 (thread 16) has exited and cannot reach it"}));
  EXPECT_TRUE(contains_all(launch_error([&] { PMSDSEN_LAUNCH(mixed_collectives_kernel, 1, 32, 0)(iout.get()); }),
                           {"mixed_collectives_kernel", "different collectives", "__shfl_xor_sync()",
                            "__shfl_down_sync()"}));
  EXPECT_TRUE(contains_all(launch_error([&] { PMSDSEN_LAUNCH(missing_lanes_kernel, 1, 32, 0)(out.get()); }),
                           {"missing_lanes_kernel", "__shfl_down_sync()", "threads 16-31 reached it",
                            "threads 0-15 exited without reaching it"}));
  // A fault leaves the device usable: the next launch runs.
  PMSDSEN_LAUNCH(write_kernel, 1, 64, 0)(out.get(), 64);
  EXPECT_EQ(out.host()[63], 63.f);
}

TEST(EmuKernels, SharedMemoryIsPerBlockAndPoisoned) {
  constexpr int blocks = 5;
  DeviceArray<float> first(blocks * 64), after(blocks * 64);
  PMSDSEN_LAUNCH(shared_per_block_kernel, blocks, 64, 64 * sizeof(float))(first.get(), after.get());
  const std::vector<float> f = first.host(), a = after.host();
  for (int b = 0; b < blocks; ++b)
    for (int t = 0; t < 64; ++t) {
      EXPECT_EQ(f[b * 64 + t], 1.f) << "block " << b << " thread " << t << " saw shared memory not poisoned";
      EXPECT_EQ(a[b * 64 + t], 2.f * b + 0.5f) << "block " << b << " thread " << t;
    }
}

TEST(EmuKernels, SharedMemoryOverrunIsCaught) {
  DeviceArray<float> out(1);
#if defined(__SANITIZE_ADDRESS__)
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process: the worker threads do not survive fork
  // AddressSanitizer stops at the write itself, static or dynamic shared memory alike.
  EXPECT_DEATH(PMSDSEN_LAUNCH(shared_overrun_kernel, 1, 65, 0)(out.get()), "AddressSanitizer: use-after-poison");
  EXPECT_DEATH(PMSDSEN_LAUNCH(dynamic_overrun_kernel, 1, 9, 8 * sizeof(float))(out.get()),
               "AddressSanitizer: use-after-poison");
#else
  // Without it, the bytes after each array are checked when the block ends.
  EXPECT_TRUE(contains_all(launch_error([&] { PMSDSEN_LAUNCH(shared_overrun_kernel, 1, 65, 0)(out.get()); }),
                           {"shared_overrun_kernel", "wrote past the end of 'cells'"}));
  EXPECT_TRUE(
      contains_all(launch_error([&] { PMSDSEN_LAUNCH(dynamic_overrun_kernel, 1, 9, 8 * sizeof(float))(out.get()); }),
                   {"dynamic_overrun_kernel", "wrote past the end of the dynamic shared memory"}));
#endif
}

TEST(EmuKernels, SharedMemoryLimitsAreAnH100s) {
  DeviceArray<float> out(1024);
  // 40 KiB static + 12 KiB dynamic exceeds the 48 KiB a block gets without opting in.
  EXPECT_TRUE(contains_all(launch_error([&] { PMSDSEN_LAUNCH(big_shared_kernel, 1, 32, 12 * 1024)(out.get()); }),
                           {"big_shared_kernel", "'cells' (40960 bytes)", "53248 bytes", "limit of 49152"}));
  PMSDSEN_LAUNCH(big_shared_kernel, 1, 32, 8 * 1024)(out.get());
  EXPECT_EQ(out.host()[31], 1.f);
  // Dynamic shared memory beyond 48 KiB needs cudaFuncSetAttribute, up to 227 KiB.
  const int n = 20000;  // 80000 bytes
  EXPECT_TRUE(contains_all(
      launch_error([&] { PMSDSEN_LAUNCH(dynamic_shared_kernel, 1, 256, n * sizeof(float))(out.get(), n); }),
      {"cudaErrorInvalidValue", "80000 bytes of dynamic shared memory", "cudaFuncSetAttribute"}));
  ASSERT_EQ(cudaFuncSetAttribute(dynamic_shared_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, n * 4), cudaSuccess);
  PMSDSEN_LAUNCH(dynamic_shared_kernel, 1, 256, n * sizeof(float))(out.get(), n);
  EXPECT_EQ(out.host()[0], n - 1.f);
  EXPECT_EQ(cudaFuncSetAttribute(dynamic_shared_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 300 * 1024),
            cudaErrorInvalidValue);
  cudaGetLastError();
}

TEST(EmuKernels, LaunchConfigurationsAreCheckedAgainstAnH100) {
  DeviceArray<float> out(64);
  struct Bad {
    dim3 grid, block;
    const char* error;
  } bad[] = {{1, 1025, "cudaErrorInvalidConfiguration"},
             {1, dim3(32, 32, 2), "cudaErrorInvalidConfiguration"},
             {1, dim3(1, 1, 65), "cudaErrorInvalidConfiguration"},
             {dim3(1, 65536), 32, "cudaErrorInvalidConfiguration"},
             {dim3(1, 1, 65536), 32, "cudaErrorInvalidConfiguration"},
             {0, 32, "cudaErrorInvalidConfiguration"},
             {1, 0, "cudaErrorInvalidConfiguration"}};
  for (const Bad& b : bad) {
    const std::string e = launch_error([&] { PMSDSEN_LAUNCH(write_kernel, b.grid, b.block, 0)(out.get(), 64); });
    EXPECT_TRUE(contains_all(e, {"write_kernel", b.error, "test_emu_kernels.cpp"}));
    EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "the launch error is reported once";
  }
  // The largest legal shapes run.
  PMSDSEN_LAUNCH(first_block_kernel, dim3(1, 65535), 1, 0)(out.get(), 64);
  PMSDSEN_LAUNCH(first_block_kernel, 1, dim3(16, 16, 4), 0)(out.get(), 64);
  EXPECT_EQ(out.host()[63], 63.f);
}

TEST(EmuKernels, HostPointerArgumentIsAnIllegalAddress) {
  std::vector<float> host(64);
  const std::string e = launch_error([&] { PMSDSEN_LAUNCH(write_kernel, 1, 64, 0)(host.data(), 64); });
  EXPECT_TRUE(contains_all(e, {"cudaErrorIllegalAddress", "write_kernel", "argument 1", "not device memory"}));
  float* dangling = nullptr;
  ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&dangling), 64), cudaSuccess);
  ASSERT_EQ(cudaFree(dangling), cudaSuccess);
  EXPECT_TRUE(contains_all(launch_error([&] { PMSDSEN_LAUNCH(write_kernel, 1, 64, 0)(dangling, 16); }),
                           {"cudaErrorIllegalAddress", "outside every allocation"}));
}

TEST(EmuKernels, AtomicsCountEveryThreadAcrossBlocks) {
  DeviceArray<unsigned long long> ull(std::vector<unsigned long long>{0});
  DeviceArray<float> f(std::vector<float>{0.f});
  DeviceArray<int> mx(std::vector<int>{-1});
  PMSDSEN_LAUNCH(count_kernel, 300, 128, 0)(ull.get(), f.get(), mx.get());
  EXPECT_EQ(ull.host()[0], 300ull * 128);
  EXPECT_EQ(f.host()[0], 0.5f * 300 * 128);  // exact: every partial sum is a multiple of 0.5 below 2^24
  EXPECT_EQ(mx.host()[0], 300 * 128 - 1);
}

#if defined(__SANITIZE_ADDRESS__)
// The caching allocator rounds a 10-float tensor up to a 512-byte block: the rest of the
// block is unaddressable, so a kernel writing one float too many stops there.
TEST(EmuKernels, CachingAllocatorSlackIsUnaddressable) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Tensor t = Tensor::empty({10}, DType::F32, Device::cuda());
  PMSDSEN_LAUNCH(write_kernel, 1, 32, 0)(t.data<float>(), 10);  // in bounds: fine
  EXPECT_EQ(t.cpu().to_vector<float>()[9], 9.f);
  EXPECT_DEATH(PMSDSEN_LAUNCH(write_kernel, 1, 32, 0)(t.data<float>(), 11), "AddressSanitizer: use-after-poison");
}
#endif

TEST(EmuKernels, HostCodeTouchingDeviceMemoryDiesWithAMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // a fresh process: the worker threads do not survive fork
  DeviceArray<float> d(16);
  float* p = d.get();
  EXPECT_DEATH({ *reinterpret_cast<volatile float*>(p) = 1.f; }, "host code dereferenced the device pointer");
  EXPECT_DEATH({ (void)*reinterpret_cast<volatile float*>(p + 3); }, "device memory is only accessible to kernels");
}
