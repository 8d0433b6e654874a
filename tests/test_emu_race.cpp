// The race mode of the emulated GPU (built only under ThreadSanitizer, tools/test.sh
// --race): a shared-memory race between threads of a block is reported, including the
// one a barrier removed from cuda/reduce.cuh's block_sum would make, while the same
// code with its barriers is quiet. The rest of the CUDA suite, run in this mode with
// halt_on_error, shows every kernel of the library is quiet too.
#include <cuda_runtime.h>  // what nvcc makes visible to every .cu file

#include "cuda/launch.cuh"
#include "cuda/reduce.cuh"
#include "tests/test_emu_util.h"

using namespace pmsdsen;
using test::DeviceArray;

namespace {

// Thread 0 writes a shared word that thread 1 reads, with no barrier between them.
__global__ void racy_kernel(float* out) {
  PMSDSEN_SHARED(float, cell);
  if (threadIdx.x == 0) cell = 1.f;
  if (threadIdx.x == 1) out[0] = cell;
}

__global__ void barrier_kernel(float* out) {
  PMSDSEN_SHARED(float, cell);
  if (threadIdx.x == 0) cell = 1.f;
  __syncthreads();
  if (threadIdx.x == 1) out[0] = cell;
}

// cuda::block_sum without its first barrier: a second call may overwrite warp_totals
// while lanes of warp 0 still read what the first call left there.
template <class T>
__device__ T block_sum_missing_barrier(T v) {
  PMSDSEN_SHARED(T, warp_totals, [32]);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = cuda::warp_sum(v);
  if (lane == 0) warp_totals[warp] = v;
  __syncthreads();
  const unsigned warps = blockDim.x >> 5;
  v = threadIdx.x < warps ? warp_totals[lane] : T(0);
  if (warp == 0) v = cuda::warp_sum(v);
  return v;
}

__global__ void two_sums_kernel(float* out, bool with_barrier) {
  float a = with_barrier ? cuda::block_sum(1.f) : block_sum_missing_barrier(1.f);
  float b = with_barrier ? cuda::block_sum(2.f) : block_sum_missing_barrier(2.f);
  if (threadIdx.x == 0) out[0] = a + b;
}

}  // namespace

class EmuRace : public ::testing::Test {
 protected:
  // The racy launch runs in a fresh process (the worker threads do not survive fork), which
  // ThreadSanitizer ends with exit code 66 at its first report (TSAN_OPTIONS, set by
  // tools/test.sh --race, as for the whole suite).
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(EmuRace, SharedMemoryRaceIsReported) {
  DeviceArray<float> out(1);
  EXPECT_EXIT(PMSDSEN_LAUNCH(racy_kernel, 1, 64, 0)(out.get()), ::testing::ExitedWithCode(66),
              "ThreadSanitizer: data race");
  PMSDSEN_LAUNCH(barrier_kernel, 1, 64, 0)(out.get());  // quiet: the suite halts on any report
  EXPECT_EQ(out.host()[0], 1.f);
}

TEST_F(EmuRace, BlockSumWithoutItsFirstBarrierIsReported) {
  DeviceArray<float> out(1);
  EXPECT_EXIT(PMSDSEN_LAUNCH(two_sums_kernel, 1, 256, 0)(out.get(), false), ::testing::ExitedWithCode(66),
              "ThreadSanitizer: data race");
  PMSDSEN_LAUNCH(two_sums_kernel, 1, 256, 0)(out.get(), true);
  EXPECT_EQ(out.host()[0], 768.f);
}
