// The emulated CUDA runtime against what the CUDA documentation says of each call:
// copies and memsets in every direction with their range checks, 2D copies and the pitch
// limit, events, graph capture, device properties, errors with the emulator's detail,
// and device memory that starts as NaN and is refused to the host.
#include <cuda_runtime.h>  // what nvcc makes visible to every .cu file

#include <cmath>
#include <cstring>
#include <numeric>

#include "cuda/launch.cuh"
#include "emu/hooks.h"
#include "tests/test_emu_util.h"

using namespace pmsdsen;
using test::contains_all;
using test::DeviceArray;

namespace {

__global__ void add_one_kernel(float* x, int n) {
  PMSDSEN_GRID_STRIDE(i, n) x[i] += 1.f;
}

std::string error_text(cudaError_t e) { return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e); }

}  // namespace

TEST(EmuRuntime, CopiesInEveryDirection) {
  std::vector<float> host(1000);
  std::iota(host.begin(), host.end(), 0.f);
  DeviceArray<float> a(1000), b(1000);
  ASSERT_EQ(cudaMemcpy(a.get(), host.data(), 4000, cudaMemcpyHostToDevice), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(b.get(), a.get(), 4000, cudaMemcpyDeviceToDevice), cudaSuccess);
  std::vector<float> back(1000, -1.f);
  ASSERT_EQ(cudaMemcpy(back.data(), b.get(), 4000, cudaMemcpyDefault), cudaSuccess);  // inferred: device to host
  EXPECT_EQ(back, host);
  ASSERT_EQ(cudaMemsetAsync(a.get() + 10, 0, 8), cudaSuccess);
  const std::vector<float> z = a.host();
  EXPECT_EQ(z[9], 9.f);
  EXPECT_EQ(z[10], 0.f);
  EXPECT_EQ(z[11], 0.f);
  EXPECT_EQ(z[12], 12.f);
}

TEST(EmuRuntime, CopyRangesAndDirectionsAreChecked) {
  DeviceArray<float> d(100);
  std::vector<float> host(200);
  cudaError_t e = cudaMemcpy(d.get(), host.data(), 101 * sizeof(float), cudaMemcpyHostToDevice);
  EXPECT_EQ(e, cudaErrorInvalidValue);
  EXPECT_TRUE(contains_all(error_text(e), {"cudaMemcpy (HostToDevice, 404 bytes)", "destination",
                                           "overruns the 400-byte allocation", "by 4 bytes"}));
  e = cudaMemcpy(host.data(), host.data() + 100, 16, cudaMemcpyDeviceToHost);
  EXPECT_TRUE(contains_all(error_text(e), {"cudaErrorInvalidValue", "source", "not device memory"}));
  e = cudaMemcpy(d.get(), d.get() + 50, 16, cudaMemcpyHostToDevice);
  EXPECT_TRUE(contains_all(error_text(e), {"source", "device memory, where a host pointer was expected"}));
  e = cudaMemsetAsync(d.get() + 99, 0, 8);
  EXPECT_TRUE(contains_all(error_text(e), {"cudaMemsetAsync of 8 bytes", "overruns"}));
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

TEST(EmuRuntime, TwoDimensionalCopiesAndThePitchLimit) {
  // 3 rows of 5 floats out of a 7-float pitch into a 6-float pitch.
  std::vector<float> src(21);
  std::iota(src.begin(), src.end(), 0.f);
  DeviceArray<float> a(src), b(18);
  ASSERT_EQ(cudaMemsetAsync(b.get(), 0, 18 * 4), cudaSuccess);
  ASSERT_EQ(cudaMemcpy2DAsync(b.get(), 6 * 4, a.get(), 7 * 4, 5 * 4, 3, cudaMemcpyDeviceToDevice), cudaSuccess);
  const std::vector<float> got = b.host();
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 6; ++c) EXPECT_EQ(got[r * 6 + c], c < 5 ? src[r * 7 + c] : 0.f) << r << "," << c;
  int pitch = 0;
  ASSERT_EQ(cudaDeviceGetAttribute(&pitch, cudaDevAttrMaxPitch, 0), cudaSuccess);
  EXPECT_EQ(pitch, 2147483647);
  emu::set_max_pitch(24);
  EXPECT_EQ(cudaMemcpy2DAsync(b.get(), 24, a.get(), 28, 20, 3, cudaMemcpyDeviceToDevice), cudaErrorInvalidPitchValue);
  EXPECT_EQ(cudaMemcpy2DAsync(b.get(), 24, a.get(), 24, 28, 3, cudaMemcpyDeviceToDevice), cudaErrorInvalidPitchValue);
  emu::set_max_pitch(0);
  EXPECT_EQ(cudaMemcpy2DAsync(b.get(), 24, a.get(), 28, 20, 3, cudaMemcpyDeviceToDevice), cudaSuccess);
  cudaGetLastError();
}

TEST(EmuRuntime, AllocationsStartAsNaNAndFreesAreChecked) {
  DeviceArray<float> d(33);
  for (float v : d.host()) EXPECT_TRUE(std::isnan(v));
  int x = 0;
  EXPECT_TRUE(contains_all(error_text(cudaFree(&x)), {"cudaErrorInvalidValue", "cudaMalloc did not return"}));
  void* p = nullptr;
  ASSERT_EQ(cudaMalloc(&p, 100), cudaSuccess);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 256, 0u);
  ASSERT_EQ(cudaFree(p), cudaSuccess);
  EXPECT_EQ(cudaFree(p), cudaErrorInvalidValue);  // twice
  EXPECT_EQ(cudaFree(nullptr), cudaSuccess);
  size_t free_b = 0, total_b = 0;
  ASSERT_EQ(cudaMemGetInfo(&free_b, &total_b), cudaSuccess);
  EXPECT_GT(total_b, size_t(1) << 30);
  EXPECT_LE(free_b, total_b);
  cudaGetLastError();
}

TEST(EmuRuntime, EventsTimeWhatRunsBetweenThem) {
  cudaEvent_t a, b, untimed;
  ASSERT_EQ(cudaEventCreate(&a), cudaSuccess);
  ASSERT_EQ(cudaEventCreate(&b), cudaSuccess);
  ASSERT_EQ(cudaEventCreateWithFlags(&untimed, cudaEventDisableTiming), cudaSuccess);
  float ms = -1.f;
  EXPECT_EQ(cudaEventElapsedTime(&ms, a, b), cudaErrorInvalidResourceHandle);  // not recorded yet
  DeviceArray<float> d(1 << 16);
  ASSERT_EQ(cudaEventRecord(a), cudaSuccess);
  PMSDSEN_LAUNCH(add_one_kernel, 64, 256, 0)(d.get(), 1 << 16);
  ASSERT_EQ(cudaEventRecord(b), cudaSuccess);
  ASSERT_EQ(cudaEventSynchronize(b), cudaSuccess);
  ASSERT_EQ(cudaEventElapsedTime(&ms, a, b), cudaSuccess);
  EXPECT_GT(ms, 0.f);
  ASSERT_EQ(cudaEventRecord(untimed), cudaSuccess);
  EXPECT_EQ(cudaEventElapsedTime(&ms, a, untimed), cudaErrorInvalidResourceHandle);
  cudaGetLastError();
  for (cudaEvent_t e : {a, b, untimed}) cudaEventDestroy(e);
}

TEST(EmuRuntime, CaptureRecordsWorkAndRefusesHostCopies) {
  cudaStream_t s;
  ASSERT_EQ(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), cudaSuccess);
  std::vector<float> zeros(256, 0.f);
  DeviceArray<float> d(zeros);
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal), cudaSuccess);
  ASSERT_EQ(cudaMemsetAsync(d.get(), 0, 4, s), cudaSuccess);
  ASSERT_EQ(pmsdsen::emu::launch_kernel("add_one_kernel", add_one_kernel, 1, 256, 0, s, d.get(), 256), cudaSuccess);
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamEndCapture(s, &graph), cudaSuccess);
  size_t nodes = 0;
  ASSERT_EQ(cudaGraphGetNodes(graph, nullptr, &nodes), cudaSuccess);
  EXPECT_EQ(nodes, 2u);
  EXPECT_EQ(d.host()[5], 0.f);  // recorded, not run
  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(exec, s), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(exec, s), cudaSuccess);
  EXPECT_EQ(d.host()[5], 2.f);
  EXPECT_EQ(d.host()[0], 1.f);  // the memset ran before each launch
  // Copies to the host, synchronisation and allocation are refused and spoil the capture.
  ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal), cudaSuccess);
  std::vector<float> host(256);
  EXPECT_EQ(cudaMemcpyAsync(host.data(), d.get(), 1024, cudaMemcpyDeviceToHost, s), cudaErrorStreamCaptureUnsupported);
  void* p = nullptr;
  EXPECT_EQ(cudaMalloc(&p, 64), cudaErrorStreamCaptureUnsupported);
  EXPECT_EQ(cudaStreamSynchronize(s), cudaErrorStreamCaptureUnsupported);
  cudaGraph_t spoiled = nullptr;
  EXPECT_EQ(cudaStreamEndCapture(s, &spoiled), cudaErrorStreamCaptureInvalidated);
  EXPECT_EQ(spoiled, nullptr);
  EXPECT_EQ(cudaStreamEndCapture(s, &spoiled), cudaErrorIllegalState);  // no capture under way
  cudaGetLastError();
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaStreamDestroy(s);
}

TEST(EmuRuntime, DevicePropertiesAreAnH100s) {
  int count = 0;
  ASSERT_EQ(cudaGetDeviceCount(&count), cudaSuccess);
  EXPECT_EQ(count, 1);
  cudaDeviceProp p;
  ASSERT_EQ(cudaGetDeviceProperties(&p, 0), cudaSuccess);
  EXPECT_NE(std::string(p.name).find("H100"), std::string::npos);
  EXPECT_NE(std::string(p.name).find("emulated"), std::string::npos);
  EXPECT_EQ(p.major, 9);
  EXPECT_EQ(p.minor, 0);
  EXPECT_EQ(p.maxThreadsPerBlock, 1024);
  EXPECT_EQ(p.maxThreadsDim[2], 64);
  EXPECT_EQ(p.maxGridSize[0], 2147483647);
  EXPECT_EQ(p.maxGridSize[1], 65535);
  EXPECT_EQ(p.sharedMemPerBlock, 48u * 1024);
  EXPECT_EQ(p.sharedMemPerBlockOptin, 227u * 1024);
  EXPECT_EQ(p.warpSize, 32);
  EXPECT_EQ(p.multiProcessorCount, 132);
  EXPECT_EQ(cudaGetDeviceProperties(&p, 1), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaSetDevice(0), cudaSuccess);
  cudaGetLastError();
}

TEST(EmuRuntime, ErrorNamesAndTextsAreCudas) {
  EXPECT_STREQ(cudaGetErrorName(cudaErrorInvalidConfiguration), "cudaErrorInvalidConfiguration");
  EXPECT_STREQ(cudaGetErrorName(cudaSuccess), "cudaSuccess");
  EXPECT_STREQ(cudaGetErrorString(cudaErrorStreamCaptureInvalidated),
               "operation failed due to a previous error during capture");
  EXPECT_STREQ(cudaGetErrorName(static_cast<cudaError_t>(12345)), "cudaErrorUnknown");
}
