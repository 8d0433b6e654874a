// The benchmark harness on a GPU (skipped without one): the event timer, the copy
// bandwidth, CUDA graph capture (and its failure path), and every kernel bench with its
// cuDNN baseline checked against ours. No timing assertions.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "autograd/grad_mode.h"
#include "cuda/graph.h"
#include "bench/device_info.h"
#include "bench/kernel_registry.h"
#include "bench/kernel_runner.h"
#include "bench/timer.h"
#include "core/allocator.h"
#include "models/pmsdsen.h"
#include "tests/test_util.h"

#ifdef PMSDSEN_WITH_CUDA
#include "cuda/basic.h"
#endif

namespace pmsdsen::bench {
namespace {

TEST(BenchCuda, EventTimerAndCopyBandwidth) {
  PMSDSEN_REQUIRE_CUDA();
  Tensor t = Tensor::zeros({1 << 20}, DType::F32, Device::cuda());
  TimerOptions o;
  o.warmup_reps = 2;
  o.warmup_ms = 0;
  o.fixed_reps = 70;  // more than one batch of queued reps
  int64_t calls = 0;
#ifdef PMSDSEN_WITH_CUDA
  const Stats s = time_reps(Device::cuda(), [&](int64_t) { ++calls; cuda::fill(t.data<float>(), 1.5f, t.numel()); }, o);
#else
  const Stats s;
#endif
  EXPECT_EQ(s.count, 70);
  EXPECT_EQ(calls, 2 + 3 + 70);  // warm-up, probe, timed
  EXPECT_GT(s.median, 0.0);
  EXPECT_LE(s.min, s.median);
  EXPECT_EQ(t.cpu().to_vector<float>()[12345], 1.5f);

  TimerOptions c = timer_defaults(Device::cuda(), true);
  const CopyBandwidth bw = measure_copy_bandwidth(Device::cuda(), c, int64_t(64) << 20);
  EXPECT_EQ(bw.bytes, int64_t(64) << 20);
  if (!cuda_emulated()) {
    EXPECT_GT(bw.gbps, 10.0);  // any GPU copies faster than this
  }
  const DeviceInfo info = device_info(Device::cuda());
  EXPECT_GT(info.cache_bytes, 0);
  EXPECT_GT(info.memory_bytes, 0);
}

TEST(BenchCuda, GraphReplaysCapturedWorkAndReportsFailedCaptures) {
  PMSDSEN_REQUIRE_CUDA();
  Tensor t = Tensor::zeros({4096}, DType::F32, Device::cuda());
  {
    // A kernel launch is captured; t.fill_ would not do (it copies from the host and waits).
    cuda::CapturedGraph g([&] {
#ifdef PMSDSEN_WITH_CUDA
      cuda::fill(t.data<float>(), 3.0f, t.numel());
#endif
    });
    EXPECT_GE(g.nodes(), 1u);
    EXPECT_EQ(t.cpu().to_vector<float>()[7], 0.0f);  // captured, not run
    g.replay();
    EXPECT_EQ(t.cpu().to_vector<float>()[7], 3.0f);
  }
  // A copy to the host waits for the device: not allowed while capturing.
  try {
    cuda::CapturedGraph g([&] { (void)t.cpu(); });
    FAIL() << "capturing a device-to-host copy should fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("capture"), std::string::npos) << e.what();
  }
  // The stream works normally afterwards.
  t.fill_(5.0);
  EXPECT_EQ(t.cpu().to_vector<float>()[0], 5.0f);
}

// The network's inference, captured after a warm-up, gives the eager result. Skipped (with
// the reason) when the forward cannot be captured: the benchmark then reports eager only.
TEST(BenchCuda, ModelInferenceGraphMatchesEager) {
  PMSDSEN_REQUIRE_CUDA();
  PMSDSEN model;
  model.to(Device::cuda());
  model.eval();
  Generator gen(5);
  const Tensor x = test::random_tensor({1, 3, 64, 128}, gen, DType::F32).to(Device::cuda());
  autograd::NoGradGuard no_grad;
  const std::vector<float> eager = model.forward(x).cpu().to_vector<float>();
  Tensor out;
  std::unique_ptr<cuda::CapturedGraph> g;
  try {
    g = std::make_unique<cuda::CapturedGraph>([&] { out = model.forward(x); });
  } catch (const Error& e) {
    GTEST_SKIP() << "the forward cannot be captured: " << e.what();
  }
  g->replay();
  EXPECT_EQ(out.cpu().to_vector<float>(), eager);
}

// Every (op, pass) at its smallest bench, with cuDNN: our outputs are all written and
// cuDNN computes the same values (so a misconfigured baseline shows here).
TEST(BenchCuda, EveryKernelRunsAndCudnnAgrees) {
  PMSDSEN_REQUIRE_CUDA();
  std::map<std::string, const KernelBench*> smallest;
  // The network's layer shapes at 512x1024, or at 64x128 on the emulated GPU (the same
  // kernels and passes; 512x1024 takes minutes there).
  const NetConfig config = cuda_emulated() ? NetConfig{1, 64, 128} : kernel_configs()[0];
  const std::vector<KernelBench> all = kernel_benches(config);
  for (const KernelBench& b : all) {
    // Each distinct op/pass/dilation: the smallest instance.
    const KernelBench*& s = smallest[b.kernel + " " + b.name];
    if (!s || b.bytes < s->bytes) s = &b;
  }
  KernelRunOptions o;
  o.device = Device::cuda();
  o.timer = timer_defaults(Device::cuda(), true);
  o.timer.fixed_reps = 3;
  o.budget_bytes = int64_t(1) << 30;
  const DeviceInfo info = device_info(Device::cuda());
  for (const auto& [key, b] : smallest) {
    const nlohmann::json r = run_kernel_bench(*b, o, info, 1000.0);
    SCOPED_TRACE(key + " @ " + b->where);
    EXPECT_FALSE(r.contains("error")) << r.value("error", std::string());
    EXPECT_TRUE(r.value("outputs_written", false));
#ifdef PMSDSEN_WITH_CUDNN
    if (b->baseline) {
      const std::string note = r.value("cudnn_note", std::string());
      EXPECT_EQ(note.rfind("failed", 0), std::string::npos) << note;
      if (r.contains("cudnn_rel_error")) {
        EXPECT_LT(r["cudnn_rel_error"].get<double>(), 1e-3);
        EXPECT_GT(r.value("cudnn_ms", 0.0), 0.0);
      } else {
        // Either a stand-in (no comparison) or cuDNN refused the configuration.
        EXPECT_TRUE(r.value("cudnn_same_op", true) == false || note.rfind("skipped", 0) == 0) << r.dump();
      }
    }
#endif
  }
}

}  // namespace
}  // namespace pmsdsen::bench
