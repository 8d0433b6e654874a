// pmsdsen train given what it must refuse or survive (issue 12, items 7-10): a run folder
// in use by another training, impossible worker counts, a bad sample with --skip-bad and
// batches of two, numbers out of range, crops too large, an --out that is a file. Each
// refusal exits 1 with a message naming the flag, before the run folder is created.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/file_io.h"
#include "data/image.h"
#include "examples/run_folder.h"
#include "tests/test_limits.h"
#include "tests/test_model_cmd_util.h"
#include "tests/test_util.h"

namespace pmsdsen {
namespace {

namespace fs = std::filesystem;

struct TrainFolder {
  std::string dir = test::temp_dir("train_hostile");
  ~TrainFolder() { fs::remove_all(dir); }
  std::string operator/(const std::string& name) const { return dir + "/" + name; }
};

const std::string kTiny =
    "train --dataset synthetic --synthetic-size 64x32 --synthetic-train 4 --synthetic-val 1 --crop 32x32 --batch 2 "
    "--iters 2 --val-every -1 --device cpu --workers 1";

TEST(TrainHostile, ARunFolderInUseIsRefusedWithOrWithoutOverwrite) {
  TrainFolder f;
  const std::string run = f / "run";
  train::RunFolder held(run);  // another training, as far as the command can tell
  for (const char* extra : {"", " --overwrite"}) {
    auto r = test::run_tool(kTiny + " --out " + run + extra);
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_OUTPUT_HAS(r, "train: the run folder '" + run + "' is in use by another training (process " +
                             std::to_string(::getpid()) + "); wait for it to end, or choose another --out");
    EXPECT_EQ(test::files_under(run), std::vector<std::string>{".lock"}) << "nothing written into it";
  }
}

TEST(TrainHostile, TheLockIsHeldForTheRunAndReleasedAfter) {
  TrainFolder f;
  const std::string run = f / "run";
  {
    train::RunFolder first(run);
    EXPECT_NE(test::error_of([&] { train::RunFolder second(run); }).find("is in use by another training"),
              std::string::npos);
  }
  train::RunFolder again(run);  // released with the first
  EXPECT_EQ(test::files_under(run), std::vector<std::string>{".lock"});
}

TEST(TrainHostile, OutOfRangeSettingsAreRefusedBeforeTheRunFolderExists) {
  TrainFolder f;
  const std::string run = f / "run";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {" --workers 100000", "train: --workers 100000: expected 1 to 64 loader threads"},
      {" --iters 99999999999999999999",
       "train: --iters expects an integer from -9223372036854775808 to 9223372036854775807, got "
       "'99999999999999999999'"},
      {" --crop 0x0", "train: --crop expects WIDTHxHEIGHT such as 512x256, got '0x0'"},
      {" --crop 100000x100000", "train: --crop 100000x100000: at most 8192 a side"},
      {" --lr inf", "train: --lr expects a finite number, got 'inf'"},
      {" --batch 0", "train: --batch 0: expected 1 to 1024"},
  };
  for (const auto& [flags, message] : cases) {
    auto r = test::run_tool(kTiny + flags + " --out " + run);
    EXPECT_EQ(r.status, 1) << flags << "\n" << r.output;
    EXPECT_OUTPUT_HAS(r, message);
    EXPECT_EQ(r.output.find("json.exception"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("unexpected error"), std::string::npos) << r.output;
    EXPECT_FALSE(fs::exists(run)) << flags;
  }
  // The same values from a config file name the file and the setting.
  write_file_atomically(f / "cfg.json", R"({"crop": "0x0", "iters": 18446744073709551615})");
  auto r = test::run_tool("train --config " + (f / "cfg.json") + " --out " + run);
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, (f / "cfg.json") + ": setting 'crop' expects WIDTHxHEIGHT such as 512x256, got '0x0'");
  write_file_atomically(f / "cfg.json", R"({"iters": 18446744073709551615})");
  r = test::run_tool("train --config " + (f / "cfg.json") + " --out " + run);
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "setting 'iters' has the wrong type or range: 18446744073709551615 (expected a 64-bit integer)");
}

TEST(TrainHostile, AnOutThatIsAFileIsNamed) {
  TrainFolder f;
  write_file_atomically(f / "notes.txt", "mine");
  auto r = test::run_tool(kTiny + " --out " + (f / "notes.txt"));
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "train: --out '" + (f / "notes.txt") + "' is a file; it must name a folder");
  EXPECT_EQ(read_file(f / "notes.txt"), "mine");
  r = test::run_tool(kTiny + " --out " + (f / "notes.txt/run"));
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "train: cannot create the run folder '" + (f / "notes.txt/run") + "'");
}

// Cityscapes layout with four training images, one of them corrupt, and one for validation.
std::string cityscapes_with_a_bad_image(const TrainFolder& f) {
  const std::string root = f / "cityscapes";
  for (const std::string split : {"train", "val"}) {
    fs::create_directories(root + "/leftImg8bit/" + split + "/city");
    fs::create_directories(root + "/gtFine/" + split + "/city");
    for (int i = 0; i < (split == "train" ? 4 : 1); ++i) {
      const std::string id = "city_" + std::to_string(i);
      data::Image im(32, 64);
      for (size_t k = 0; k < im.pixels.size(); ++k) im.pixels[k] = static_cast<uint8_t>(k * 7 + i);
      data::LabelMap label(32, 64);
      for (size_t k = 0; k < label.ids.size(); ++k) label.ids[k] = static_cast<uint8_t>(k % 19);
      const std::string image_path = root + "/leftImg8bit/" + split + "/city/" + id + "_leftImg8bit.png";
      data::write_png(image_path, im);
      data::write_png(root + "/gtFine/" + split + "/city/" + id + "_gtFine_labelTrainIds.png", label);
      if (split == "train" && i == 2) write_file_atomically(image_path, "not a png");
    }
  }
  return root;
}

TEST(TrainHostile, SkipBadRefillsBatchesOfTwo) {
  TrainFolder f;
  const std::string root = cityscapes_with_a_bad_image(f);
  // Two batches of two per epoch: the bad image is in one of them whatever the order.
  const std::string args = "train --dataset cityscapes --root " + root +
                           " --crop 32x32 --batch 2 --iters 2 --val-every -1 --device cpu --workers 1 --out " +
                           (f / "run");
  auto r = test::run_tool(args + " --skip-bad");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_OUTPUT_HAS(r, "1 training samples skipped (--skip-bad)");
  EXPECT_TRUE(fs::exists(f / "run/last.safetensors"));
  // Without --skip-bad the bad file stops the run, named.
  r = test::run_tool(args + " --overwrite");
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "city_2_leftImg8bit.png': not an image this program reads; only PNG and JPEG images are read");
}

}  // namespace
}  // namespace pmsdsen
