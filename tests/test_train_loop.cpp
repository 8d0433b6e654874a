// The training loop end to end on tiny synthetic crops (CPU): learning, bit-identical
// resume (N + N iterations versus 2N, through --stop-after and through Ctrl-C), frozen
// BatchNorm, and the non-finite-loss stop.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/parallel.h"
#include "examples/train_checkpoint.h"
#include "examples/train_log.h"
#include "examples/trainer.h"
#include "layers/batchnorm.h"
#include "models/pmsdsen.h"
#include "models/weights.h"
#include "tests/test_util.h"

namespace pmsdsen::train {
namespace {

namespace fs = std::filesystem;

// Tiny synthetic scenes and crops: an iteration takes milliseconds.
TrainConfig tiny(const std::string& out, int64_t iters) {
  TrainConfig c;
  c.dataset = "synthetic";
  c.synthetic_width = 64;
  c.synthetic_height = 32;
  c.synthetic_train = 16;
  c.synthetic_val = 4;
  c.crop_width = 32;
  c.crop_height = 32;
  c.scale_range = "0.5,1";
  c.jitter = "off";
  c.batch = 2;
  c.iters = iters;
  c.lr = 0.02;
  c.device = "cpu";
  c.workers = 2;
  c.seed = 7;
  c.val_every = -1;
  c.log_every = 1;
  c.out = out;
  return c;
}

// Every model tensor and momentum buffer of two checkpoints, bit for bit.
void expect_identical(const Checkpoint& a, const Checkpoint& b) {
  ASSERT_EQ(a.model.size(), b.model.size());
  for (const auto& [name, t] : a.model) {
    const Tensor& u = b.model.at(name);
    ASSERT_EQ(t.nbytes(), u.nbytes()) << name;
    EXPECT_EQ(std::memcmp(t.raw_data(), u.raw_data(), t.nbytes()), 0) << "model tensor " << name << " differs";
  }
  ASSERT_EQ(a.momentum.size(), b.momentum.size());
  for (const auto& [name, t] : a.momentum) {
    const Tensor& u = b.momentum.at(name);
    EXPECT_EQ(std::memcmp(t.raw_data(), u.raw_data(), t.nbytes()), 0) << "momentum of " << name << " differs";
  }
  EXPECT_EQ(a.state.iteration, b.state.iteration);
}

TrainHooks quiet() {
  TrainHooks h;
  h.quiet = true;
  return h;
}

TEST(TrainLoop, ShortRunLearns) {
  // 60 iterations of 4 crops 64x32 from 32 synthetic scenes (lr 0.1), validated on 8.
  // Measured (x86-64, this build, synthetic scenes of data commit 7a4447f): mean loss
  // 8.90 over iterations 1-5 -> 3.35 over 56-60; mIoU 0.01% untrained -> 4.4% at 20 ->
  // 11.4% at 40 -> 14.0% at 60 (pixel accuracy 0.1% -> 55%); seed 3 instead of 7 gives
  // 16.2%. About 8 s of CPU time. Thresholds at about half the measured gains.
#if defined(__SANITIZE_ADDRESS__)
  // 100 s under AddressSanitizer, too much for CI's budget: the sanitizer run checks the
  // same code paths through the shorter runs below, the optimised build checks learning.
  GTEST_SKIP() << "learning is checked in the optimised build";
#endif
  const std::string dir = test::temp_dir("learn");
  TrainConfig c = tiny(dir, 60);
  c.synthetic_train = 32;
  c.synthetic_val = 8;
  c.crop_width = 64;
  c.scale_range = "1,2";
  c.batch = 4;
  c.lr = 0.1;
  c.log_every = 5;
  c.val_every = 20;
  c.val_at_start = true;
  const TrainResult r = run_training(c, std::nullopt, quiet());
  ASSERT_EQ(r.status, TrainStatus::Finished) << r.message;
  EXPECT_LT(r.start_miou, 0.02);
  EXPECT_LT(r.final_loss, 0.6 * r.first_loss) << "first " << r.first_loss << ", final " << r.final_loss
                                              << " (measured 8.90 -> 3.35)";
  EXPECT_GT(r.last_miou, 0.07) << "measured 0.140";
  EXPECT_GT(r.best_miou, r.start_miou + 0.05);
  // The run folder holds what the issue lists.
  for (const char* f : {"config.json", "last.safetensors", "best.safetensors", "log.jsonl", "curves.svg"})
    EXPECT_TRUE(fs::exists(fs::path(dir) / f)) << f;
  const auto log = read_log(dir + "/log.jsonl");
  int64_t vals = 0;
  for (const auto& rec : log) {
    EXPECT_TRUE(rec.contains("iter"));
    if (rec["kind"] == "val") {
      ++vals;
      EXPECT_TRUE(rec["miou"].is_number());
    } else {
      EXPECT_TRUE(rec["loss"].is_number() && rec["lr"].is_number());
    }
  }
  EXPECT_EQ(vals, 4);  // at 0, 20, 40 and 60
  // best.safetensors is the state of the best validation.
  const Checkpoint best = load_checkpoint(dir + "/best.safetensors");
  EXPECT_EQ(best.state.best_miou, r.best_miou);
  EXPECT_EQ(best.state.iteration, best.state.best_iteration);
  fs::remove_all(dir);
}

TEST(TrainLoop, ResumeIsBitIdenticalToAnUninterruptedRun) {
  const std::string dir = test::temp_dir("resume");
  const int64_t n = 3;
  // 2N iterations in one go.
  TrainConfig whole = tiny(dir + "/whole", 2 * n);
  const TrainResult rw = run_training(whole, std::nullopt, quiet());
  ASSERT_EQ(rw.status, TrainStatus::Finished) << rw.message;

  // N, stop (as a time-boxed run does), resume for the other N.
  TrainConfig first = tiny(dir + "/split", 2 * n);
  first.stop_after = n;
  const TrainResult r1 = run_training(first, std::nullopt, quiet());
  ASSERT_EQ(r1.status, TrainStatus::Stopped) << r1.message;
  EXPECT_EQ(r1.iteration, n);
  const Checkpoint mid = load_checkpoint(dir + "/split/last.safetensors");
  EXPECT_EQ(mid.state.iteration, n);
  TrainConfig again = config_from_json(mid.state.config, "checkpoint");
  again.stop_after = 0;
  const TrainResult r2 = run_training(again, mid, quiet());
  ASSERT_EQ(r2.status, TrainStatus::Finished) << r2.message;

  expect_identical(load_checkpoint(dir + "/split/last.safetensors"), load_checkpoint(dir + "/whole/last.safetensors"));
  // The resumed log holds each iteration once.
  const auto log = read_log(dir + "/split/log.jsonl");
  int64_t train_records = 0;
  for (const auto& r : log) train_records += r["kind"] == "train";
  EXPECT_EQ(train_records, 2 * n);
  fs::remove_all(dir);
}

TEST(TrainLoop, CtrlCSavesAndResumesBitIdentically) {
  const std::string dir = test::temp_dir("sigint");
  const int64_t n = 2;
  const TrainResult rw = run_training(tiny(dir + "/whole", 2 * n), std::nullopt, quiet());
  ASSERT_EQ(rw.status, TrainStatus::Finished) << rw.message;

  TrainHooks h = quiet();
  h.after_iteration = [n](int64_t it, Module&) {
    if (it == n) std::raise(SIGINT);  // the handler only sets a flag; the loop saves and stops
  };
  const TrainResult r1 = run_training(tiny(dir + "/split", 2 * n), std::nullopt, h);
  ASSERT_EQ(r1.status, TrainStatus::Interrupted) << r1.message;
  EXPECT_EQ(r1.exit_code(), 130);
  EXPECT_EQ(r1.iteration, n);
  EXPECT_NE(r1.message.find("--resume"), std::string::npos) << r1.message;
  const Checkpoint mid = load_checkpoint(dir + "/split/last.safetensors");
  EXPECT_EQ(mid.state.iteration, n);

  const TrainResult r2 = run_training(config_from_json(mid.state.config, "checkpoint"), mid, quiet());
  ASSERT_EQ(r2.status, TrainStatus::Finished) << r2.message;
  expect_identical(load_checkpoint(dir + "/split/last.safetensors"), load_checkpoint(dir + "/whole/last.safetensors"));
  fs::remove_all(dir);
}

TEST(TrainLoop, WeightsDoNotDependOnTheThreadCount) {
  // CPU reductions run in a fixed order, so a resumed run on a machine with another
  // core count still continues bit-identically.
  // Crops of 128x64 so that the larger kernels' parallel paths are taken.
  const std::string dir = test::temp_dir("threads");
  auto config = [&](const std::string& out) {
    TrainConfig c = tiny(out, 2);
    c.synthetic_width = 128;
    c.synthetic_height = 64;
    c.crop_width = 128;
    c.crop_height = 64;
    c.val_limit = 1;
    return c;
  };
  const int threads = num_threads();
  set_num_threads(1);
  const TrainResult one = run_training(config(dir + "/one"), std::nullopt, quiet());
  set_num_threads(3);
  const TrainResult three = run_training(config(dir + "/three"), std::nullopt, quiet());
  set_num_threads(threads);
  ASSERT_EQ(one.status, TrainStatus::Finished) << one.message;
  ASSERT_EQ(three.status, TrainStatus::Finished) << three.message;
  expect_identical(load_checkpoint(dir + "/one/last.safetensors"), load_checkpoint(dir + "/three/last.safetensors"));
  fs::remove_all(dir);
}

TEST(TrainLoop, NonFiniteLossStopsAndKeepsTheLastGoodCheckpoint) {
  const std::string dir = test::temp_dir("nan");
  TrainConfig c = tiny(dir, 10);
  c.save_every = 2;
  TrainHooks h = quiet();
  h.after_iteration = [](int64_t it, Module& model) {
    if (it != 3) return;
    Tensor w = model.named_parameters().front().second;  // Stem_Conv.0.weight
    w.data<float>()[0] = NAN;  // the next forward pass gives a NaN loss
  };
  const TrainResult r = run_training(c, std::nullopt, h);
  ASSERT_EQ(r.status, TrainStatus::NonFinite);
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_EQ(r.iteration, 3);
  EXPECT_NE(r.message.find("loss is NaN at iteration 4 (lr "), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("last good checkpoint: " + dir + "/last.safetensors"), std::string::npos) << r.message;
  const Checkpoint last = load_checkpoint(dir + "/last.safetensors");
  EXPECT_EQ(last.state.iteration, 2);
  PMSDSEN model(PmsdsenConfig{19, Activation::GELU});
  model.load_state_dict(last.model);
  EXPECT_TRUE(all_finite(model));

  // Weights that went bad right before a save are not written either.
  const std::string dir2 = test::temp_dir("nan_save");
  TrainConfig c2 = tiny(dir2, 10);
  c2.save_every = 2;
  TrainHooks h2 = quiet();
  h2.after_iteration = [](int64_t it, Module& model) {
    if (it == 4) model.named_parameters().front().second.data<float>()[0] = NAN;
  };
  const TrainResult r2 = run_training(c2, std::nullopt, h2);
  ASSERT_EQ(r2.status, TrainStatus::NonFinite);
  EXPECT_NE(r2.message.find("not finite after iteration 4"), std::string::npos) << r2.message;
  EXPECT_EQ(load_checkpoint(dir2 + "/last.safetensors").state.iteration, 2);
  fs::remove_all(dir);
  fs::remove_all(dir2);
}

TEST(TrainLoop, FrozenBatchNormKeepsRunningStatistics) {
  const std::string dir = test::temp_dir("freeze");
  // Start from weights whose running statistics are not the initial 0 / 1.
  PMSDSEN init(PmsdsenConfig{19, Activation::GELU});
  Generator gen(3);
  for (auto& [name, t] : init.named_buffers()) {
    if (t.dtype() != DType::F32) continue;
    float* p = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(gen.uniform(0.5, 1.5));
  }
  save_weights(init, dir + "/init.safetensors");

  TrainConfig c = tiny(dir + "/run", 3);
  c.init = dir + "/init.safetensors";
  c.freeze_bn = true;
  const TrainResult r = run_training(c, std::nullopt, quiet());
  ASSERT_EQ(r.status, TrainStatus::Finished) << r.message;
  const Checkpoint after = load_checkpoint(dir + "/run/last.safetensors");
  const auto before = init.state_dict();
  int64_t bn_tensors = 0, changed_convs = 0;
  for (const auto& [name, t] : before) {
    const Tensor& u = after.model.at(name);
    const bool same = std::memcmp(t.raw_data(), u.raw_data(), t.nbytes()) == 0;
    const bool bn_state = name.find("running_") != std::string::npos || name.find("num_batches") != std::string::npos;
    if (bn_state) {
      ++bn_tensors;
      EXPECT_TRUE(same) << name << " changed under --freeze-bn";
    }
    if (name == "Stem_Conv.0.weight" || name == "seg_head_x2.3.weight") changed_convs += !same;
  }
  EXPECT_GT(bn_tensors, 300);
  EXPECT_EQ(changed_convs, 2);  // the rest of the network did train
  // Frozen BN's affine parameters are not trained either (the authors' stage 2).
  EXPECT_EQ(std::memcmp(before.at("Stem_Conv.1.weight").raw_data(), after.model.at("Stem_Conv.1.weight").raw_data(),
                        before.at("Stem_Conv.1.weight").nbytes()),
            0);
  EXPECT_EQ(after.momentum.count("Stem_Conv.1.weight"), 0u);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace pmsdsen::train
