// pmsdsen train on the command line: a config file with flags overriding it, a time-boxed
// run resumed with --resume, and the refusal to start over an existing run.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "examples/cli.h"
#include "examples/train_checkpoint.h"
#include "examples/train_config.h"

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

}  // namespace
}  // namespace pmsdsen::train
