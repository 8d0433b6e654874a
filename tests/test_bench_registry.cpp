// The kernel registry: it covers every op the benchmark issue names, at both network
// inputs, with the right byte counts, and every bench runs on the CPU (one rep, no
// timing assertions). Also `pmsdsen bench kernels` end to end on one kernel.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "autograd/op_table.h"
#include "bench/kernel_registry.h"
#include "bench/kernel_runner.h"
#include "tests/test_util.h"

namespace pmsdsen::bench {
namespace {

const KernelBench* find(const std::vector<KernelBench>& all, const std::string& name, const std::string& where) {
  for (const KernelBench& b : all)
    if (b.name == name && b.where == where) return &b;
  return nullptr;
}

TEST(BenchRegistry, CoversEveryOpOfTheIssueAtBothInputs) {
  ASSERT_EQ(kernel_configs().size(), 2u);
  EXPECT_EQ(kernel_configs()[0].str(), "1x3x512x1024");
  EXPECT_EQ(kernel_configs()[1].str(), "12x3x256x512");
  for (const NetConfig& c : kernel_configs()) {
    const std::vector<KernelBench> all = kernel_benches(c);
    for (const RequiredOp& r : required_ops()) {
      int n = 0;
      for (const KernelBench& b : all) n += b.op == r.op && b.pass == r.pass;
      EXPECT_GT(n, 0) << c.str() << ": no bench for " << r.op << " " << r.pass;
    }
    // Every convolution kernel of the network, each pass.
    for (const char* kernel : {"depthwise conv 3x3", "pointwise conv", "dense conv 3x3", "transposed conv 3x3"})
      for (const char* pass : {"forward", "input_grad", "weight_grad"}) {
        int n = 0;
        for (const KernelBench& b : all) n += b.kernel == kernel && b.pass == pass;
        EXPECT_GT(n, 0) << c.str() << ": no bench for " << kernel << " " << pass;
      }
    // Depthwise at each dilation 1-4, each pass.
    for (int d = 1; d <= 4; ++d)
      for (const char* pass : {"fwd", "input_grad", "weight_grad"}) {
        const std::string name = "dwconv3x3_d" + std::to_string(d) + "." + pass;
        int n = 0;
        for (const KernelBench& b : all) n += b.name == name;
        EXPECT_EQ(n, d == 1 ? 6 : 3) << c.str() << " " << name;  // d1: LDI and LRMS, 3 stages each
      }
    // Every bench is complete and unique.
    std::set<std::string> keys;
    for (const KernelBench& b : all) {
      EXPECT_TRUE(keys.insert(b.name + " @ " + b.where).second) << "duplicate " << b.name << " @ " << b.where;
      EXPECT_TRUE(static_cast<bool>(b.make)) << b.name;
      EXPECT_TRUE(static_cast<bool>(b.ours)) << b.name;
      EXPECT_GT(b.bytes, 0) << b.name;
      EXPECT_EQ(b.config.str(), c.str());
      // Named by the op table, timing one of the passes the table lists for it.
      const autograd::OpInfo* op = autograd::find_op(b.op);
      ASSERT_NE(op, nullptr) << b.name << ": op " << b.op << " is not in autograd/op_table.def";
      const std::vector<std::string> passes = op->passes();
      EXPECT_NE(std::find(passes.begin(), passes.end(), b.pass), passes.end()) << b.name << ": pass " << b.pass;
      // Where cuDNN has the op (convolutions, BN, activations but PReLU, pooling) it is
      // the baseline (in builds with cuDNN); elsewhere the record says why there is none.
      const bool in_cudnn = b.op == "conv2d" || b.op == "conv2d_epilogue" || b.op == "conv_transpose2d" || b.op == "batch_norm" ||
                            b.op == "gelu" || b.kernel == "pooling";
#ifdef PMSDSEN_WITH_CUDNN
      EXPECT_EQ(static_cast<bool>(b.baseline), in_cudnn) << b.name;
#endif
      if (!in_cudnn) {
        EXPECT_FALSE(b.baseline) << b.name;
        EXPECT_FALSE(b.no_baseline.empty()) << b.name << " does not say why it has no baseline";
      }
    }
  }
}

TEST(BenchRegistry, FewestBytesOfSomeKernels) {
  const std::vector<KernelBench> all = kernel_benches(kernel_configs()[0]);  // batch 1 at 512x1024
  const double plane1 = 256.0 * 512.0;                                        // stage 1 map

  const KernelBench* gelu = find(all, "gelu.fwd", "stage 1 (H/2)");
  ASSERT_NE(gelu, nullptr);
  EXPECT_DOUBLE_EQ(gelu->bytes, 2 * 4 * 32 * plane1);  // x read, y written
  const KernelBench* gelu_b = find(all, "gelu.bwd", "stage 1 (H/2)");
  ASSERT_NE(gelu_b, nullptr);
  EXPECT_DOUBLE_EQ(gelu_b->bytes, 3 * 4 * 32 * plane1);  // x, gy read, gx written

  // LRMS x2 at stage 1: 4 channels; x, w [4,1,3,3], bias [4], y.
  const KernelBench* dw = find(all, "dwconv3x3_d2.fwd", "LRMS x2, stage 1 (H/2)");
  ASSERT_NE(dw, nullptr);
  EXPECT_DOUBLE_EQ(dw->bytes, 4 * (2 * 4 * plane1 + 36 + 4));
  EXPECT_EQ(dw->shape, (Shape{1, 4, 256, 512}));
  // Its weight gradient: x and gy read, gw written.
  const KernelBench* dww = find(all, "dwconv3x3_d2.weight_grad", "LRMS x2, stage 1 (H/2)");
  ASSERT_NE(dww, nullptr);
  EXPECT_DOUBLE_EQ(dww->bytes, 4 * (2 * 4 * plane1 + 36));
  EXPECT_DOUBLE_EQ(dww->flops, 2.0 * 4 * plane1 * 9);

  // Transposed up5: x [1,64,128,256], w [64,32,3,3], y [1,32,256,512].
  const KernelBench* up = find(all, "convT3x3_s2.input_grad", "up5 (H/4 -> H/2)");
  ASSERT_NE(up, nullptr);
  EXPECT_DOUBLE_EQ(up->bytes, 4 * (64 * 128 * 256.0 + 64 * 32 * 9 + 32 * plane1));

  // The SGD step reads p, g, buf and writes p, buf: 20 bytes per parameter.
  const KernelBench* sgd = find(all, "sgd_fused.step", "all 1061 parameter tensors");
  ASSERT_NE(sgd, nullptr);
  EXPECT_DOUBLE_EQ(sgd->bytes, 20.0 * 922373);

  // The batch-12 configuration has 12x the maps at half the side.
  const std::vector<KernelBench> b12 = kernel_benches(kernel_configs()[1]);
  const KernelBench* g12 = find(b12, "gelu.fwd", "stage 1 (H/2)");
  ASSERT_NE(g12, nullptr);
  EXPECT_EQ(g12->shape, (Shape{12, 32, 128, 256}));
}

// The smallest bench of every (op, pass) runs once on the CPU and writes all its outputs:
// the registry calls each kernel with arguments it accepts.
TEST(BenchRegistry, EveryOpRunsOnTheCpu) {
  const std::vector<KernelBench> all = kernel_benches(kernel_configs()[0]);
  std::map<std::string, const KernelBench*> smallest;
  for (const KernelBench& b : all) {
    const KernelBench*& s = smallest[b.kernel + " " + b.pass];
    if (!s || b.bytes < s->bytes) s = &b;
  }
  KernelRunOptions o;
  o.device = Device::cpu();
  o.timer.warmup_reps = 0;
  o.timer.warmup_ms = 0;
  o.timer.fixed_reps = 1;
  o.budget_bytes = 1;  // one set
  const DeviceInfo info = device_info(Device::cpu());
  for (const auto& [key, b] : smallest) {
    const nlohmann::json r = run_kernel_bench(*b, o, info, 1.0);
    EXPECT_FALSE(r.contains("error")) << key << ": " << r.value("error", std::string());
    EXPECT_TRUE(r.value("outputs_written", false)) << key << " left " << r.value("unwritten_elements", 0)
                                                   << " elements unwritten";
    EXPECT_EQ(r.value("sets", 0), 1) << key;
    EXPECT_GT(r.value("ms", 0.0), 0.0) << key;
  }
}

TEST(BenchCommand, KernelsWritesTheJsonOfTheIssue) {
  const std::string json = testing::TempDir() + "bench_kernels_test.json";
  std::remove(json.c_str());
  const std::string cmd = std::string(PMSDSEN_TOOL_PATH) +
                          " bench kernels --device cpu --filter global_avgpool.fwd --config 1x512x1024 "
                          "--reps 1 --json " + json + " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream f(json);
  ASSERT_TRUE(f.good()) << json;
  const nlohmann::json j = nlohmann::json::parse(f);
  EXPECT_EQ(j["device_type"], "cpu");
  EXPECT_TRUE(j["device"].is_string());
  EXPECT_GT(j["copy"]["gbps"].get<double>(), 0.0);
  ASSERT_EQ(j["records"].size(), 1u);
  const nlohmann::json& r = j["records"][0];
  EXPECT_EQ(r["name"], "global_avgpool.fwd");
  EXPECT_EQ(r["batch"], 1);
  EXPECT_EQ(r["height"], 256);
  EXPECT_EQ(r["width"], 512);
  EXPECT_EQ(r["reps"], 1);
  for (const char* key : {"ms", "gbps", "copy_fraction", "bytes"}) EXPECT_TRUE(r[key].is_number()) << key;
  std::remove(json.c_str());
}

TEST(BenchCommand, RejectsUnknownConfigAndFilter) {
  const std::string tool = PMSDSEN_TOOL_PATH;
  EXPECT_NE(std::system((tool + " bench kernels --device cpu --config 3x3x3 > /dev/null 2>&1").c_str()), 0);
  EXPECT_NE(std::system((tool + " bench kernels --device cpu --filter no_such_kernel > /dev/null 2>&1").c_str()), 0);
  EXPECT_NE(std::system((tool + " bench nonsense > /dev/null 2>&1").c_str()), 0);
}

}  // namespace
}  // namespace pmsdsen::bench
