#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "core/allocator.h"
#include "core/init.h"
#include "core/tensor.h"
#include "tests/test_util.h"

using namespace pmsdsen;

TEST(Tensor, CreationShapeAndValues) {
  Tensor t = Tensor::full({2, 3, 4}, 1.5);
  EXPECT_EQ(t.dim(), 3);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.size(-1), 4);
  EXPECT_EQ(t.dtype(), DType::F32);
  for (float v : t.to_vector<float>()) EXPECT_EQ(v, 1.5f);
  EXPECT_EQ(t.str(), "float32[2, 3, 4] on cpu");
  Tensor z = Tensor::zeros({5}, DType::I64);
  for (int64_t v : z.to_vector<int64_t>()) EXPECT_EQ(v, 0);
}

TEST(Tensor, WrongDtypeAccessIsAnError) {
  Tensor t = Tensor::zeros({2});
  EXPECT_THROW(t.data<double>(), Error);
  try {
    t.data<int64_t>();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("float32[2]"), std::string::npos) << e.what();
  }
}

TEST(Tensor, ViewSharesStorageAndChecksNumel) {
  Tensor t = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor v = t.view({3, -1});
  EXPECT_EQ(v.shape(), (Shape{3, 2}));
  v.data<float>()[0] = 9.f;
  EXPECT_EQ(t.to_vector<float>()[0], 9.f);
  EXPECT_THROW(t.view({4, 2}), Error);
  Tensor row = t.narrow_batch(1, 1);
  EXPECT_EQ(row.to_vector<float>(), (std::vector<float>{4, 5, 6}));
}

TEST(Tensor, DtypeConversionRoundTrips) {
  Tensor t = Tensor::from_vector<double>({1.25, -2.5, 3.0}, {3});
  EXPECT_EQ(t.to(DType::F32).to_vector<float>(), (std::vector<float>{1.25f, -2.5f, 3.0f}));
  EXPECT_EQ(t.to(DType::I64).to_vector<int64_t>(), (std::vector<int64_t>{1, -2, 3}));
}

TEST(Tensor, PoisonFillsNewTensorsWithNaN) {
  set_poison_uninitialized(true);
  Tensor t = Tensor::empty({4});
  set_poison_uninitialized(false);
  for (float v : t.to_vector<float>()) EXPECT_TRUE(std::isnan(v));
}

TEST(Tensor, CpuAllocatorAccountsBytes) {
  const size_t before = memory_stats(Device::cpu()).current_bytes;
  {
    Tensor t = Tensor::empty({1000});
    EXPECT_GE(memory_stats(Device::cpu()).current_bytes, before + 4000);
  }
  EXPECT_EQ(memory_stats(Device::cpu()).current_bytes, before);
}

// Large CPU tensors ask for transparent huge pages where the system leaves them to
// madvise (core/allocator.cpp): /proc/self/smaps marks their mapping THP-eligible.
TEST(Tensor, LargeCpuTensorsAreEligibleForHugePages) {
  std::ifstream policy("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  std::getline(policy, modes);
  if (modes.find("[madvise]") == std::string::npos && modes.find("[always]") == std::string::npos)
    GTEST_SKIP() << "transparent huge pages are not available here (" << (modes.empty() ? "no THP" : modes) << ")";
  Tensor big = Tensor::zeros({int64_t(16) << 20});  // 64 MiB
  const auto address = reinterpret_cast<uintptr_t>(big.data<float>()) + (size_t(32) << 20);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  int eligible = -1;
  while (std::getline(smaps, line)) {
    uintptr_t lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(':') > line.find(' ')) {
      inside = lo <= address && address < hi;
    } else if (inside && line.rfind("THPeligible:", 0) == 0) {
      eligible = std::stoi(line.substr(12));
      break;
    }
  }
  if (eligible == -1) GTEST_SKIP() << "this kernel's /proc/self/smaps has no THPeligible field";
  EXPECT_EQ(eligible, 1) << "the mapping holding a 64 MiB tensor is not THP-eligible";
}

// A large activation must come from the process's heap, not from a fresh mapping that is
// unmapped when freed and page-faulted in again by the next one (core/allocator.cpp).
TEST(Tensor, LargeCpuTensorsReuseHeapMemory) {
#if !defined(__GLIBC__) || defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "glibc's malloc statistics only (AddressSanitizer replaces malloc)";
#else
  constexpr size_t kBytes = size_t(64) << 20;
  Tensor big = Tensor::zeros({int64_t(kBytes / sizeof(float))});
  EXPECT_LT(mallinfo2().hblkhd, kBytes) << "a 64 MiB tensor was mapped on its own";
#endif
}

TEST(Tensor, KaimingUniformMatchesPyTorchBound) {
  Generator gen(7);
  Tensor w = Tensor::empty({16, 3, 3, 3});
  init::kaiming_uniform_conv_(w, gen);
  const double bound = 1.0 / std::sqrt(27.0);
  double max_abs = 0;
  for (float v : w.to_vector<float>()) max_abs = test::worse(max_abs, std::fabs(v));
  EXPECT_LE(max_abs, bound);
  EXPECT_GT(max_abs, 0.8 * bound);  // 432 draws reach near the bound
}

TEST(Rng, DeterministicAndDerived) {
  Generator a(42), b(42);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.next_u64(), b.next_u64());
  Generator c = Generator::derive(1, {2, 3}), d = Generator::derive(1, {2, 3}),
            e = Generator::derive(1, {3, 2});
  const uint64_t cv = c.next_u64();
  EXPECT_EQ(cv, d.next_u64());
  EXPECT_NE(cv, e.next_u64());
  Generator g(3);
  double mean = 0;
  for (int i = 0; i < 20000; ++i) mean += g.normal();
  EXPECT_NEAR(mean / 20000, 0.0, 0.03);
}

TEST(TensorCuda, CopiesRoundTripThroughTheDevice) {
  PMSDSEN_REQUIRE_CUDA();
  Tensor t = Tensor::from_vector<float>({1, 2, 3, 4, 5}, {5});
  Tensor d = t.to(Device::cuda());
  EXPECT_TRUE(d.is_cuda());
  Tensor d2 = d.clone();
  d2.fill_(7.0);
  EXPECT_EQ(d.cpu().to_vector<float>(), t.to_vector<float>());
  EXPECT_EQ(d2.cpu().to_vector<float>(), (std::vector<float>(5, 7.f)));
}

TEST(TensorCuda, CachingAllocatorReachesSteadyState) {
  PMSDSEN_REQUIRE_CUDA();
  // A training-like pattern: activations of several sizes allocated, then freed in
  // reverse, step after step. After warm-up, no new cudaMalloc may happen.
  auto step = [] {
    std::vector<Tensor> live;
    for (int64_t c : {16, 32, 64, 32, 19})
      live.push_back(Tensor::empty({2, c, 33, 65}, DType::F32, Device::cuda()));
    live.push_back(Tensor::empty({7}, DType::F32, Device::cuda()));
    while (!live.empty()) live.pop_back();
  };
  step();
  const MemoryStats warm = memory_stats(Device::cuda());
  for (int i = 0; i < 50; ++i) step();
  const MemoryStats after = memory_stats(Device::cuda());
  EXPECT_EQ(after.system_allocs, warm.system_allocs);
  EXPECT_EQ(after.system_frees, warm.system_frees);
  EXPECT_EQ(after.current_bytes, warm.current_bytes);
  EXPECT_GE(after.peak_bytes, size_t(2) * 64 * 33 * 65 * 4);
}

// A block reused for a smaller request (up to 1/8 smaller) is freed at its real size:
// the bytes in use return to where they were and the block serves its own size again.
TEST(TensorCuda, ReusedLargerBlockIsFreedAtItsRealSize) {
  PMSDSEN_REQUIRE_CUDA();
  const MemoryStats start = memory_stats(Device::cuda());
  { Tensor nine = Tensor::empty({9 << 18}, DType::F32, Device::cuda()); }  // 9 MiB
  const MemoryStats cached = memory_stats(Device::cuda());
  { Tensor eight = Tensor::empty({8 << 18}, DType::F32, Device::cuda()); }  // 8 MiB: the 9 MiB block
  EXPECT_EQ(memory_stats(Device::cuda()).current_bytes, start.current_bytes);
  { Tensor nine = Tensor::empty({9 << 18}, DType::F32, Device::cuda()); }
  const MemoryStats end = memory_stats(Device::cuda());
  EXPECT_EQ(end.current_bytes, start.current_bytes);
  EXPECT_EQ(end.system_allocs, cached.system_allocs) << "the 9 MiB block was not found again";
}

TEST(TensorCuda, RequestingCudaWithoutGpuIsAClearError) {
  if (cuda_available()) GTEST_SKIP() << "a GPU is present: nothing to check";
  try {
    Tensor::empty({2}, DType::F32, Device::cuda());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda"), std::string::npos) << e.what();
  }
}

// The comparison helpers must not let a NaN or an infinity through: a kernel writing NaN
// once passed a tolerance check because a NaN followed by a finite element was lost.
TEST(TestHelpers, ComparisonsFailOnNonFiniteValues) {
  const Tensor ref = Tensor::from_vector<double>({0.5, 1, 2}, {3});
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(std::isinf(test::max_rel_diff(Tensor::from_vector<double>({nan, 1, 2}, {3}), ref)));
  EXPECT_TRUE(std::isinf(test::max_rel_diff(Tensor::from_vector<double>({0.5, 1, nan}, {3}), ref)));
  EXPECT_TRUE(std::isinf(test::max_rel_diff(Tensor::from_vector<double>({0.5, inf, 2}, {3}), ref)));
  EXPECT_TRUE(std::isinf(test::max_rel_diff(ref, Tensor::from_vector<double>({0.5, 1, -inf}, {3}))));
  EXPECT_EQ(test::max_rel_diff(Tensor::from_vector<double>({0.5, 1, 2.5}, {3}), ref), 0.25);
  EXPECT_TRUE(std::isnan(test::worse(test::worse(0.0, nan), 1.0)));
  EXPECT_EQ(test::worse(0.5, 1.0), 1.0);
}
