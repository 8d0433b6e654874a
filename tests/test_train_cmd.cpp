// pmsdsen train on the command line: a config file with flags overriding it, a time-boxed
// run resumed with --resume, and the refusal to start over an existing run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <cmath>
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "examples/cli.h"
#include "examples/train_checkpoint.h"
#include "examples/train_config.h"
#include "tests/test_util.h"

namespace pmsdsen::train {
namespace {

namespace fs = std::filesystem;

TEST(TrainCommand, ConfigFileStopAndResume) {
  const fs::path dir = fs::temp_directory_path() / ("pmsdsen_train_cmd_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string out = (dir / "run").string();
  {
    std::ofstream cfg(dir / "cfg.json");
    cfg << R"({"dataset": "synthetic", "synthetic-size": "64x32", "synthetic-train": 8, "synthetic-val": 2,
              "crop": "32x32", "batch": 4, "iters": 4, "val-every": -1, "device": "cpu", "workers": 1,
              "lr": 0.5})";
  }
  auto train = [](std::vector<std::string> args) { return cli::registry().at("train").run(args); };
  // The flags override the file: batch 2 and lr 0.01, stop after 2 of 4 iterations.
  EXPECT_EQ(train({"--config", (dir / "cfg.json").string(), "--batch", "2", "--lr", "0.01", "--stop-after", "2",
                   "--out", out}),
            0);
  Checkpoint c = load_checkpoint(out + "/last.safetensors");
  EXPECT_EQ(c.state.iteration, 2);
  const TrainConfig saved = config_from_json(c.state.config, "checkpoint");
  EXPECT_EQ(saved.batch, 2);
  EXPECT_DOUBLE_EQ(saved.lr, 0.01);
  EXPECT_EQ(saved.crop_width, 32);

  // A new run over it is refused; --resume continues it to the end.
  try {
    train({"--config", (dir / "cfg.json").string(), "--out", out});
    FAIL() << "started over an existing run";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--resume"), std::string::npos) << e.what();
  }
  EXPECT_EQ(train({"--resume", out}), 0);
  c = load_checkpoint(out + "/last.safetensors");
  EXPECT_EQ(c.state.iteration, 4);
  EXPECT_TRUE(fs::exists(out + "/best.safetensors"));
  EXPECT_TRUE(fs::exists(out + "/curves.svg"));
  fs::remove_all(dir);
}

// `pmsdsen train --device cuda`: stopped after 1 of 3 iterations and resumed, it ends where
// an uninterrupted CUDA run ends, bit for bit, validating on the device on the way. Its
// first iteration is the CPU's within float tolerance (later ones drift apart as float
// rounding differences grow through SGD with momentum, as they would on a GPU).
TEST(TrainCommand, CudaRunStopsResumesAndMatchesTheCpu) {
  PMSDSEN_REQUIRE_CUDA();
  const fs::path dir = fs::temp_directory_path() / ("pmsdsen_train_cmd_cuda_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    std::ofstream cfg(dir / "cfg.json");
    cfg << R"({"dataset": "synthetic", "synthetic-size": "64x32", "synthetic-train": 8, "synthetic-val": 2,
              "crop": "32x32", "batch": 2, "iters": 3, "val-every": 2, "workers": 1, "lr": 0.05, "seed": 3})";
  }
  auto train = [&](const std::string& device, const std::string& out, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"--config", (dir / "cfg.json").string(), "--device", device, "--out",
                                     (dir / out).string()};
    args.insert(args.end(), more.begin(), more.end());
    return cli::registry().at("train").run(args);
  };
  auto checkpoint = [&](const std::string& run) { return load_checkpoint((dir / run / "last.safetensors").string()); };
  ASSERT_EQ(train("cuda", "split", {"--stop-after", "1"}), 0);
  ASSERT_EQ(train("cpu", "cpu", {"--stop-after", "1"}), 0);
  const Checkpoint cuda1 = checkpoint("split"), cpu1 = checkpoint("cpu");
  EXPECT_EQ(cuda1.state.iteration, 1);
  for (const auto& [name, t] : cpu1.model)
    if (is_floating(t.dtype())) {
      EXPECT_LT(test::max_rel_diff(cuda1.model.at(name), t, 1e-3), 1e-4) << name << " after one iteration";
    }
  // Momentum buffers hold the first gradients; those of the biases feeding a BN are ~0 by
  // nature (rounding noise), so the floor is a fraction of the largest gradient.
  double largest = 0;
  for (const auto& [name, t] : cpu1.momentum)
    for (double v : test::values(t)) largest = test::worse(largest, std::fabs(v));
  for (const auto& [name, t] : cpu1.momentum)
    EXPECT_LT(test::max_rel_diff(cuda1.momentum.at(name), t, 1e-3 * largest), 2e-3) << "momentum of " << name;

  ASSERT_EQ(cli::registry().at("train").run({"--resume", (dir / "split").string()}), 0);
  ASSERT_EQ(train("cuda", "whole"), 0);
  const Checkpoint split = checkpoint("split"), whole = checkpoint("whole");
  EXPECT_EQ(split.state.iteration, 3);
  EXPECT_TRUE(fs::exists(dir / "split/best.safetensors"));
  ASSERT_EQ(split.model.size(), whole.model.size());
  for (const auto& [name, t] : whole.model) {
    const Tensor& s = split.model.at(name);
    ASSERT_EQ(t.nbytes(), s.nbytes()) << name;
    EXPECT_EQ(std::memcmp(t.raw_data(), s.raw_data(), t.nbytes()), 0) << name << " differs after the resume";
  }
  EXPECT_EQ(split.state.best_miou, whole.state.best_miou);
  EXPECT_GE(whole.state.best_miou, 0.0);  // validated on the device
  fs::remove_all(dir);
}

}  // namespace
}  // namespace pmsdsen::train
