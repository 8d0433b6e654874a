// The benchmark harness on the CPU: statistics, rotation, records. No timing assertions.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "bench/kernel_registry.h"
#include "bench/kernel_runner.h"
#include "bench/stats.h"
#include "bench/table.h"
#include "bench/timer.h"
#include "core/cpu/basic.h"
#include "tests/test_util.h"

namespace pmsdsen::bench {
namespace {

TEST(BenchStats, MedianOfOddAndEvenCounts) {
  EXPECT_DOUBLE_EQ(summarize({5, 1, 3}).median, 3.0);
  EXPECT_DOUBLE_EQ(summarize({4, 1, 3, 2}).median, 2.5);
  const Stats s = summarize({10, 1, 7, 3, 5});
  EXPECT_EQ(s.count, 5);
  EXPECT_DOUBLE_EQ(s.min, 1.0);
  EXPECT_DOUBLE_EQ(s.max, 10.0);
  // 11 values 0..10: the 10th and 90th percentiles are 1 and 9.
  std::vector<double> v;
  for (int i = 10; i >= 0; --i) v.push_back(i);
  const Stats p = summarize(v);
  EXPECT_DOUBLE_EQ(p.p10, 1.0);
  EXPECT_DOUBLE_EQ(p.p90, 9.0);
  EXPECT_DOUBLE_EQ(p.median, 5.0);
  EXPECT_EQ(summarize({}).count, 0);
}

TEST(BenchTimer, RepsFillTheTargetWithinBounds) {
  TimerOptions o;
  o.min_reps = 10;
  o.max_reps = 100;
  o.target_ms = 50;
  EXPECT_EQ(reps_for(o, 1.0), 50);
  EXPECT_EQ(reps_for(o, 100.0), 10);
  EXPECT_EQ(reps_for(o, 0.01), 100);
  EXPECT_EQ(reps_for(o, 0.0), 100);
  EXPECT_EQ(reps_for(o, std::numeric_limits<double>::quiet_NaN()), 100);
  o.fixed_reps = 7;
  EXPECT_EQ(reps_for(o, 1.0), 7);
}

TEST(BenchTimer, CpuTimingCallsWarmupThenTimedReps) {
  TimerOptions o;
  o.warmup_reps = 2;
  o.warmup_ms = 0;
  o.fixed_reps = 5;
  std::vector<int64_t> seen;
  const Stats s = time_reps(Device::cpu(), [&](int64_t rep) { seen.push_back(rep); }, o);
  EXPECT_EQ(s.count, 5);
  ASSERT_EQ(seen.size(), 7u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], static_cast<int64_t>(i));
  EXPECT_GE(s.min, 0.0);
  EXPECT_LE(s.min, s.median);
  EXPECT_LE(s.median, s.max);
  EXPECT_GE(s.cpu_median, 0.0);  // process CPU time is measured on the CPU (NaN would fail)
}

TEST(BenchRotation, SetsExceedTheCacheWithinTheBudget) {
  const int64_t MiB = int64_t(1) << 20;
  EXPECT_EQ(rotation_sets(10 * MiB, 50 * MiB, 4096 * MiB), 15);   // 3 x 50 MiB / 10 MiB
  EXPECT_EQ(rotation_sets(400 * MiB, 50 * MiB, 4096 * MiB), 2);   // never fewer than 2
  EXPECT_EQ(rotation_sets(1 * MiB, 50 * MiB, 20 * MiB), 20);      // the budget caps it
  EXPECT_EQ(rotation_sets(3000 * MiB, 50 * MiB, 4096 * MiB), 1);  // two do not fit
  EXPECT_EQ(rotation_sets(1024, 50 * MiB, 4096 * MiB), 512);      // at most 512
  EXPECT_EQ(rotation_sets(0, 50 * MiB, 4096 * MiB), 1);
}

TEST(BenchRotation, CopiesHaveTheirOwnStorageAndTheSameValues) {
  Generator gen(3);
  Tensor x = test::random_tensor({2, 3}, gen, DType::F32);
  Tensor y = Tensor::empty({2, 3});
  RotatingBuffers b({x, y}, 3);
  EXPECT_EQ(b.sets(), 3);
  EXPECT_EQ(b.set_bytes(), 2 * 6 * 4);
  EXPECT_TRUE(b.set(0)[0].same(x));
  EXPECT_NE(b.set(1)[0].raw_data(), x.raw_data());
  EXPECT_NE(b.set(2)[0].raw_data(), b.set(1)[0].raw_data());
  EXPECT_EQ(b.set(2)[0].to_vector<float>(), x.to_vector<float>());
  EXPECT_TRUE(b.set(4)[0].same(b.set(1)[0]));  // taken modulo the count
}

TEST(BenchRunner, ErrorAndUnwrittenChecks) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3}, {3});
  Tensor b = Tensor::from_vector<float>({1, 2, 4}, {3});
  EXPECT_NEAR(rel_l2_error(a, b), 1.0 / std::sqrt(21.0), 1e-12);
  EXPECT_EQ(rel_l2_error(b, b), 0.0);
  EXPECT_TRUE(std::isnan(rel_l2_error(a, Tensor::from_vector<float>({1, 2}, {2}))));
  Tensor p = Tensor::zeros({4});
  poison(p);
  EXPECT_EQ(count_unwritten(p), 4);
  Tensor q = Tensor::zeros({4}, DType::I32);
  poison(q);
  EXPECT_EQ(count_unwritten(q), 4);
  q.fill_(3);
  EXPECT_EQ(count_unwritten(q), 0);
}

// A bench of y = 2x on a small tensor, through the same runner as the real kernels.
KernelBench scale_bench(bool write_all) {
  KernelBench b;
  b.name = "test_scale.fwd";
  b.op = "test";
  b.pass = "forward";
  b.where = "nowhere";
  b.shape = {1, 2, 8, 8};
  b.detail = "x[1,2,8,8]";
  b.bytes = 2 * f32_bytes(b.shape);
  b.make = [shape = b.shape](Device d, Generator& gen) {
    return Tensors{random_f32(shape, d, gen), empty_f32(shape, d)};
  };
  b.outputs = {1};
  b.ours = per_set([write_all](const Tensors& t) {
    const int64_t n = write_all ? t[0].numel() : t[0].numel() - 1;
    cpu::axpby<float>(2.0f, t[0].data<float>(), 0.0f, nullptr, t[1].data<float>(), n);
  });
  return b;
}

KernelRunOptions quick_cpu() {
  KernelRunOptions o;
  o.device = Device::cpu();
  o.timer = timer_defaults(Device::cpu(), true);
  o.timer.fixed_reps = 3;
  o.budget_bytes = int64_t(1) << 20;
  return o;
}

TEST(BenchRunner, RecordHoldsTheIssueFields) {
  DeviceInfo info = device_info(Device::cpu());
  info.cache_bytes = 4096;  // small, so the record rotates through several sets
  const nlohmann::json r = run_kernel_bench(scale_bench(true), quick_cpu(), info, 10.0);
  ASSERT_FALSE(r.contains("error")) << r.dump();
  for (const char* key : {"name", "batch", "height", "width", "ms", "gbps", "copy_fraction", "bytes",
                          "reps", "sets", "ms_p10", "ms_p90", "input", "op", "kernel", "bandwidth_bound", "pass",
                          "where", "shape"})
    EXPECT_TRUE(r.contains(key)) << key;
  EXPECT_EQ(r["name"], "test_scale.fwd");
  EXPECT_EQ(r["batch"], 1);
  EXPECT_EQ(r["channels"], 2);
  EXPECT_EQ(r["height"], 8);
  EXPECT_EQ(r["width"], 8);
  EXPECT_EQ(r["reps"], 3);
  EXPECT_EQ(r["sets"], 12);  // ceil(3 * 4096 / 1024): two 512-byte tensors per set
  EXPECT_TRUE(r["outputs_written"].get<bool>());
  EXPECT_DOUBLE_EQ(r["bytes"].get<double>(), 1024.0);
  const double ms = r["ms"], gbps = r["gbps"];
  EXPECT_GT(ms, 0.0);
  EXPECT_NEAR(gbps, 1024.0 / (ms * 1e6), 1e-9 * gbps);
  EXPECT_NEAR(r["copy_fraction"].get<double>(), gbps / 10.0, 1e-12);
  EXPECT_FALSE(r.contains("cudnn_ms"));  // no baselines on the CPU
  EXPECT_GE(r["cpu_ms"].get<double>(), 0.0);
}

TEST(BenchRunner, UnwrittenOutputsAndFailuresAreReported) {
  const DeviceInfo info = device_info(Device::cpu());
  const nlohmann::json r = run_kernel_bench(scale_bench(false), quick_cpu(), info, 10.0);
  EXPECT_FALSE(r["outputs_written"].get<bool>());
  EXPECT_EQ(r["unwritten_elements"], 1);

  KernelBench bad = scale_bench(true);
  bad.ours = per_set([](const Tensors&) { throw std::runtime_error("kernel exploded"); });
  const nlohmann::json e = run_kernel_bench(bad, quick_cpu(), info, 10.0);
  ASSERT_TRUE(e.contains("error"));
  EXPECT_NE(e["error"].get<std::string>().find("kernel exploded"), std::string::npos);
  EXPECT_EQ(e["name"], "test_scale.fwd");
}

TEST(BenchTable, AlignsColumnsAndFormatsNumbers) {
  Table t({{"kernel", 6, true}, {"ms", 6}});
  EXPECT_EQ(t.row({"ab", "1.5"}), "ab         1.5");
  EXPECT_EQ(t.header(), "kernel      ms\n--------------");
  EXPECT_EQ(fixed(std::numeric_limits<double>::quiet_NaN(), 2), "-");
  EXPECT_EQ(ms_cell(0.004123), "0.00412");
  EXPECT_EQ(ms_cell(12.34), "12.3");
  EXPECT_EQ(ms_cell(1234.4), "1234");
}

}  // namespace
}  // namespace pmsdsen::bench
