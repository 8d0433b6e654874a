// The commands on a full disk (issue 12, item 5), simulated with RLIMIT_FSIZE: each exits
// 1 naming the file it could not write, and leaves no output, whole or partial, and no
// temporary. Outputs that cannot be written at all are found before the work starts.
#include <gtest/gtest.h>

#include <filesystem>

#include "data/image.h"
#include "models/weights.h"
#include "tests/test_limits.h"
#include "tests/test_model_cmd_util.h"
#include "tests/test_util.h"

namespace pmsdsen {
namespace {

namespace fs = std::filesystem;

struct DiskFolder {
  std::string dir = test::temp_dir("full_disk");
  DiskFolder() { fs::create_directories(dir + "/out"); }
  ~DiskFolder() { fs::remove_all(dir); }
  std::string operator/(const std::string& name) const { return dir + "/" + name; }
};

const std::string& full_disk_weights() {
  static const std::string path = [] {
    const std::string p = test::temp_file("full_disk_weights.safetensors");
    save_weights(PMSDSEN(), p);
    return p;
  }();
  return path;
}

// Noise: the overlay does not compress below a few kilobytes.
std::string full_disk_image(const DiskFolder& f) {
  data::Image im(48, 64);
  uint32_t s = 11;
  for (uint8_t& v : im.pixels) v = static_cast<uint8_t>((s = s * 1664525u + 1013904223u) >> 24);
  data::write_png(f / "in.png", im);
  return f / "in.png";
}

std::string full_disk_segment_args(const DiskFolder& f) {
  return "segment --weights " + full_disk_weights() + " --image " + full_disk_image(f) + " --output " + (f / "out/pred.png") +
         " --overlay " + (f / "out/overlay.png") + " --ids " + (f / "out/ids.png");
}

TEST(FullDisk, SegmentWritesAllItsPicturesOrNone) {
  DiskFolder f;
  auto r = test::run_tool_with_file_limit(full_disk_segment_args(f), 2000);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_OUTPUT_HAS(r, "cannot write '" + (f / "out/overlay.png") + "': File too large (nothing written)");
  EXPECT_EQ(r.output.find("wrote"), std::string::npos) << r.output;
  EXPECT_EQ(test::files_under(f / "out"), std::vector<std::string>{});
  // With room, all three.
  r = test::run_tool_with_file_limit(full_disk_segment_args(f), 1 << 20);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(test::files_under(f / "out"), (std::vector<std::string>{"ids.png", "overlay.png", "pred.png"}));
}

TEST(FullDisk, SegmentChecksEveryOutputBeforeTheWork) {
  DiskFolder f;
  auto r = test::run_tool(full_disk_segment_args(f) + " --overlay " + (f / "missing/overlay.png"));
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "cannot write --overlay '" + (f / "missing/overlay.png") + "': No such file or directory");
  EXPECT_EQ(test::files_under(f / "out"), std::vector<std::string>{});
  r = test::run_tool(full_disk_segment_args(f) + " --ids " + (f / "out"));
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "cannot write --ids '" + (f / "out") + "': is a directory");
  r = test::run_tool(full_disk_segment_args(f) + " --ids " + (f / "out/pred.png"));
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "segment: --output and --ids name the same file");
  EXPECT_EQ(test::files_under(f / "out"), std::vector<std::string>{});
}

std::string full_disk_eval_args(const std::string& json) {
  return "eval --dataset synthetic --synthetic-size 64x32 --synthetic-val 2 --device cpu --weights " + full_disk_weights() +
         " --json " + json;
}

TEST(FullDisk, EvalJsonIsWholeOrAbsentAndItsPathIsCheckedFirst) {
  DiskFolder f;
  auto r = test::run_tool_with_file_limit(full_disk_eval_args(f / "out/eval.json"), 500);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_OUTPUT_HAS(r, "cannot write '" + (f / "out/eval.json") + "': File too large (nothing written)");
  EXPECT_EQ(test::files_under(f / "out"), std::vector<std::string>{});

  r = test::run_tool(full_disk_eval_args(f / "missing/eval.json"));
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "cannot write --json '" + (f / "missing/eval.json") + "': No such file or directory");
  EXPECT_EQ(r.output.find("mIoU"), std::string::npos) << "checked after the evaluation:\n" << r.output;
}

TEST(FullDisk, ForwardOutputIsWholeOrAbsent) {
  DiskFolder f;
  save_safetensors(f / "x.safetensors", {{"input", Tensor::zeros({1, 3, 16, 16})}});
  const std::string args =
      "forward --weights " + full_disk_weights() + " --input " + (f / "x.safetensors") + " --output " + (f / "out/y.safetensors");
  auto r = test::run_tool_with_file_limit(args, 4000);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_OUTPUT_HAS(r, "cannot write '" + (f / "out/y.safetensors") + "': File too large (nothing written)");
  EXPECT_EQ(test::files_under(f / "out"), std::vector<std::string>{});
}

TEST(FullDisk, TrainingStopsNamingTheCheckpointAndLeavesNoTemporary) {
  DiskFolder f;
  const std::string run = f / "out/run";
  // config.json and the log fit in 64 KB, a checkpoint (about 7 MB) does not.
  auto r = test::run_tool_with_file_limit(
      "train --dataset synthetic --synthetic-size 64x32 --synthetic-train 4 --synthetic-val 1 --crop 32x32 --batch 2 "
      "--iters 2 --val-every -1 --device cpu --workers 1 --out " + run,
      64 << 10);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_OUTPUT_HAS(r, "cannot write '" + run + "/");
  EXPECT_OUTPUT_HAS(r, ".safetensors': File too large (nothing written)");
  for (const std::string& name : test::files_under(run)) {
    EXPECT_EQ(name.find(".tmp."), std::string::npos) << name;
    EXPECT_EQ(name.find(".safetensors"), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace pmsdsen
