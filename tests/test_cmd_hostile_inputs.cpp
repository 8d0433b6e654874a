// The commands fed what an attacker or a careless user would (issue 12, items 1-4, 6, 10):
// other image formats under a .png name, images declaring huge sizes, weights files whose
// metadata nests deep or asks for a million classes, folders where files belong. Each
// ends with exit code 1, a message naming the file and the reason, and no output file.
// And every command that takes --weights reads what `train` writes.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "core/safetensors.h"
#include "data/image.h"
#include "examples/train_checkpoint.h"
#include "examples/train_config.h"
#include "models/weights.h"
#include "tests/test_image_bytes.h"
#include "tests/test_limits.h"
#include "tests/test_model_cmd_util.h"
#include "tests/test_util.h"

namespace pmsdsen {
namespace {

namespace fs = std::filesystem;

struct HostileFolder {
  std::string dir = test::temp_dir("hostile_inputs");
  ~HostileFolder() { fs::remove_all(dir); }
  std::string operator/(const std::string& name) const { return dir + "/" + name; }
};

void write_all_bytes(const std::string& path, const std::string& bytes) { write_file_atomically(path, bytes); }

data::Image hostile_image() {
  data::Image im(24, 32);
  for (size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] = static_cast<uint8_t>(i * 37 % 251);
  return im;
}

// Outputs of segment go to out/, which must stay empty when it fails.
std::string hostile_segment_args(const HostileFolder& f, const std::string& weights, const std::string& image) {
  fs::create_directories(f / "out");
  return "segment --weights '" + weights + "' --image '" + image + "' --output " + (f / "out/pred.png") +
         " --overlay " + (f / "out/overlay.png") + " --ids " + (f / "out/ids.png");
}

const std::string& hostile_weights() {
  static const std::string path = [] {
    const std::string p = test::temp_file("hostile_weights.safetensors");
    save_weights(PMSDSEN(), p);
    return p;
  }();
  return path;
}

TEST(HostileInputs, OtherImageFormatsAndDecompressionBombsAreRefusedByName) {
  HostileFolder f;
  const std::string pgm = f / "x.png";
  write_all_bytes(pgm, "P5\n4 4\n65535\n" + std::string(32, '\x7f'));  // stb read past its buffer on this one
  auto r = test::run_tool(hostile_segment_args(f, hostile_weights(), pgm));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_OUTPUT_HAS(r, "cannot read image '" + pgm + "': a PNM (PBM/PGM/PPM) file; only PNG and JPEG images are read");
  EXPECT_EQ(test::files_under(f / "out"), std::vector<std::string>{});

  const std::string bomb = f / "bomb.png";  // 8000x8000 declared in a few hundred bytes
  write_all_bytes(bomb, test::png_file(8000, 8000, 8, 2, std::string(300, '\0')));
  const auto start = std::chrono::steady_clock::now();
  r = test::run_tool(hostile_segment_args(f, hostile_weights(), bomb));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_OUTPUT_HAS(r, "cannot read image '" + bomb +
                           "': 8000x8000 is 64000000 pixels, more than the 40000000 allowed (--max-pixels raises "
                           "the limit)");
  EXPECT_LT(seconds, 20.0) << "refused from the header, not after decoding";
  EXPECT_EQ(test::files_under(f / "out"), std::vector<std::string>{});
  // With the limit raised the header passes, and the missing pixels are the error.
  r = test::run_tool(hostile_segment_args(f, hostile_weights(), bomb) + " --max-pixels 64000000");
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_OUTPUT_HAS(r, "cannot read image '" + bomb + "': ");
  EXPECT_EQ(r.output.find("allowed"), std::string::npos) << r.output;
  EXPECT_EQ(test::files_under(f / "out"), std::vector<std::string>{});

  r = test::run_tool(hostile_segment_args(f, hostile_weights(), f.dir));
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "cannot read image '" + f.dir + "': is a directory");
}

TEST(HostileInputs, WeightsWithDeepMetadataOrAMillionClassesFailFastAndCleanly) {
  HostileFolder f;
  const std::string image = f / "in.png";
  data::write_png(image, hostile_image());
  // A __metadata__ value nested 100,000 deep (200 KB): a stack overflow before.
  const std::string deep = f / "deep.safetensors";
  const std::string header =
      "{\"__metadata__\":{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}}";
  std::string bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  write_all_bytes(deep, bytes + header);
  auto r = test::run_tool(hostile_segment_args(f, deep, image));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_OUTPUT_HAS(r, "'" + deep + "': malformed safetensors header: objects and arrays nested more than 3 deep");

  const std::string million = f / "million.safetensors", input = f / "input.safetensors";
  save_safetensors(million, {{"x", Tensor::zeros({1})}}, {{"classes", "1000000"}, {"act", "gelu"}});
  save_safetensors(input, {{"input", Tensor::zeros({1, 3, 8, 8})}});
  for (const std::string& command :
       {hostile_segment_args(f, million, image), "eval --dataset synthetic --synthetic-size 64x32 --synthetic-val 1 --weights " +
                                             million,
        "forward --weights " + million + " --input " + input + " --output " + (f / "out/y.safetensors")}) {
    const auto start = std::chrono::steady_clock::now();
    r = test::run_tool(command);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(r.status, 1) << command << "\n" << r.output;
    EXPECT_OUTPUT_HAS(r, "'" + million + "': metadata classes says 1000000 classes; PMSDSEN has at most 255");
    EXPECT_LT(seconds, 20.0) << command;
  }
  EXPECT_EQ(test::files_under(f / "out"), std::vector<std::string>{});
}

TEST(HostileInputs, FoldersWhereFilesBelongAreNamed) {
  HostileFolder f;
  const std::string image = f / "in.png";
  data::write_png(image, hostile_image());
  auto r = test::run_tool(hostile_segment_args(f, f.dir, image));
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "cannot read safetensors file '" + f.dir + "': is a directory");
  r = test::run_tool("eval --dataset synthetic --weights " + f.dir);
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "cannot read safetensors file '" + f.dir + "': is a directory");
  r = test::run_tool("train --config " + f.dir);
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "cannot read config file '" + f.dir + "': is a directory");
  EXPECT_EQ(r.output.find("basic_filebuf"), std::string::npos) << r.output;
}

TEST(HostileInputs, EvalNamesTheDatasetNotAFlagItLacksAndRefusesANegativeLimit) {
  HostileFolder f;
  const std::string eleven = f / "eleven.safetensors";
  save_weights(PMSDSEN({11, Activation::GELU}), eleven);
  auto r = test::run_tool("eval --dataset synthetic --synthetic-size 64x32 --synthetic-val 1 --weights " + eleven);
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "'" + eleven + "': weights are for 11 classes, the synthetic dataset has 19");
  EXPECT_EQ(r.output.find("--classes"), std::string::npos) << r.output;

  r = test::run_tool("eval --dataset synthetic --limit -1 --weights " + hostile_weights());
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "eval: --limit -1 is out of range: expected 0 to 9223372036854775807");
  r = test::run_tool("eval --dataset synthetic --workers 100000 --weights " + hostile_weights());
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "eval: --workers 100000 is out of range: expected 1 to 64");
}

// README item 6: what `train` writes is what segment, forward and eval read.
TEST(HostileInputs, EveryWeightsFlagTakesATrainingCheckpoint) {
  HostileFolder f;
  PMSDSEN model({19, Activation::PReLU});
  train::TrainConfig config;
  config.dataset = "synthetic";
  config.activation = "prelu";
  train::RunState state;
  state.config = train::to_json(config);
  const std::string best = f / "best.safetensors";
  train::save_checkpoint(best, model, {}, state);

  const std::string image = f / "street.png";
  data::write_png(image, hostile_image());
  auto r = test::run_tool(hostile_segment_args(f, best, image));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(data::read_image(f / "out/pred.png").width, 32);

  const std::string input = f / "x.safetensors";
  save_safetensors(input, {{"input", Tensor::zeros({1, 3, 16, 16})}});
  r = test::run_tool("forward --weights " + best + " --input " + input + " --output " + (f / "y.safetensors"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_OUTPUT_HAS(r, "prelu");
  EXPECT_EQ(load_safetensors(f / "y.safetensors").tensors.at("logits").shape(), (Shape{1, 19, 16, 16}));

  r = test::run_tool("eval --dataset synthetic --synthetic-size 64x32 --synthetic-val 1 --device cpu --weights " + best);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_OUTPUT_HAS(r, "mIoU");
}

}  // namespace
}  // namespace pmsdsen
