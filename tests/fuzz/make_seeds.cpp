// Writes the seed corpora of the fuzz targets, small files made with the library's own
// writers plus the hostile inputs of issue 12: `fuzz_make_seeds tests/fuzz/corpus`.
// (tools/fuzz.sh seeds; the files are committed, so this runs only when seeds change.)
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/safetensors.h"
#include "examples/train_checkpoint.h"
#include "examples/train_config.h"
#include "layers/batchnorm.h"
#include "tests/test_image_bytes.h"

namespace fs = std::filesystem;
using namespace pmsdsen;

namespace {

fs::path root;

void seed(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::create_directories(root / target);
  std::ofstream(root / target / ("seed-" + name), std::ios::binary) << bytes;
}

std::string safetensors_bytes(const std::map<std::string, Tensor>& tensors,
                              const std::map<std::string, std::string>& metadata) {
  const std::string tmp = (root / "tmp.safetensors").string();
  save_safetensors(tmp, tensors, metadata);
  const std::string bytes = read_file(tmp);
  fs::remove(tmp);
  return bytes;
}

std::string with_header(const std::string& header, const std::string& data = "") {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  return s + header + data;
}

std::vector<uint8_t> noise(size_t n, uint32_t s) {
  std::vector<uint8_t> v(n);
  for (uint8_t& x : v) x = static_cast<uint8_t>((s = s * 1664525u + 1013904223u) >> 24);
  return v;
}

std::string bytes_of(const std::vector<uint8_t>& v) { return std::string(v.begin(), v.end()); }

void safetensors_seeds() {
  seed("safetensors", "dtypes", safetensors_bytes({{"f", Tensor::ones({2, 3})},
                                                   {"i", Tensor::zeros({4}, DType::I64)},
                                                   {"u", Tensor::zeros({3}, DType::U8)},
                                                   {"d", Tensor::ones({1}, DType::F64)}},
                                                  {{"k", "v"}}));
  seed("safetensors", "weights_meta",
       safetensors_bytes({{"seg_head_x2.3.weight", Tensor::zeros({19, 16, 1, 1})}},
                         {{"format", "pmsdsen"}, {"classes", "19"}, {"act", "gelu"}}));
  seed("safetensors", "prelu_head", safetensors_bytes({{"seg_head_x2.3.weight", Tensor::zeros({11, 16, 1, 1})},
                                                       {"Stem_Conv.2.weight", Tensor::zeros({32})}},
                                                      {}));
  seed("safetensors", "half",
       with_header(R"({"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},)"
                   R"("b":{"dtype":"BF16","shape":[1,1],"data_offsets":[4,6]}})",
                   std::string("\x00\x3c\x01\x80\x80\x3f", 6)));
  seed("safetensors", "classes_million", with_header(R"({"__metadata__":{"classes":"1000000"}})"));
  seed("safetensors", "metadata_not_string", with_header(R"({"__metadata__":{"classes":19,"act":["gelu"]}})"));
  seed("safetensors", "metadata_deep",
       with_header("{\"__metadata__\":{\"a\":" + std::string(2000, '[') + std::string(2000, ']') + "}}"));
  seed("safetensors", "overlap", with_header(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                                             R"("b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})",
                                             "abcd"));
  seed("safetensors", "header_too_long", std::string("\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10));
}

void image_seeds() {
  using test::png_file;
  using test::png_rows;
  const std::string plte("\x0a\x0b\x0c\x14\x15\x16\x1e\x1f\x20\x28\x29\x2a", 12);
  seed("image", "grey8.png", png_file(3, 2, 8, 0, png_rows({{"\x00\x64\xff", 3}, {"abc", 3}})));
  seed("image", "grey16.png", png_file(2, 1, 16, 0, png_rows({{"\x12\x34\xff\x01", 4}})));
  seed("image", "grey1.png", png_file(9, 1, 1, 0, png_rows({{"\xa0\x80", 2}})));
  seed("image", "grey_alpha.png", png_file(2, 1, 8, 4, png_rows({{"\x10\x00\x20\xff", 4}})));
  seed("image", "rgb16.png", png_file(1, 1, 16, 2, png_rows({{"\x01\x02\x03\x04\x05\x06", 6}})));
  seed("image", "rgba.png", png_file(1, 2, 8, 6, png_rows({{"\x01\x02\x03\x00", 4}, {"\x07\x08\x09\x80", 4}})));
  seed("image", "palette_trns.png", png_file(2, 1, 8, 3, png_rows({{"\x02\x00", 2}}), plte, std::string("\x00\xff", 2)));
  seed("image", "palette2.png", png_file(4, 1, 2, 3, png_rows({{"\x1b", 1}}), plte));
  seed("image", "rgb_noise.png", png_file(8, 8, 8, 2, bytes_of(noise(8 * 25, 3))));
  seed("image", "bomb.png", png_file(4, 4, 8, 2, std::string(200000, '\0')));
  seed("image", "declares_8000x8000.png", png_file(8000, 8000, 8, 2, std::string(64, '\0')));
  seed("image", "colour.jpg", test::jpeg_file(16, 8, 3, noise(16 * 8 * 3, 5)));
  seed("image", "grey.jpg", test::jpeg_file(8, 8, 1, noise(64, 6), false, 50));
  seed("image", "progressive.jpg", test::jpeg_file(16, 16, 3, noise(16 * 16 * 3, 7), true, 75));
  seed("image", "cmyk.jpg", test::jpeg_file(8, 8, 4, noise(256, 8), false, 50));
  std::string dht = test::jpeg_file(16, 16, 3, noise(16 * 16 * 3, 9), true, 75);  // stb overran on this
  for (size_t i = 0; i < 16; ++i) dht[dht.find("\xff\xc4") + 5 + i] = '\xff';
  seed("image", "oversized_dht.jpg", dht);
  seed("image", "pgm16.png", "P5\n4 4\n65535\n" + std::string(32, '\x7f'));
  seed("image", "gif.png", "GIF89a" + std::string("\xe4\x15\xfe\xd0\xf7\x00\x00", 7) + std::string(114, '\0'));
}

void label_seeds() {
  using test::png_file;
  using test::png_rows;
  seed("label", "ids8.png", png_file(4, 2, 8, 0, png_rows({{"\x00\x07\x1a\xff", 4}, {"\x21\x22\x0b\x0c", 4}})));
  seed("label", "ids16.png", png_file(3, 1, 16, 0, png_rows({{"\x00\x07\x01\x00\x00\xff", 6}})));
  seed("label", "train_ids.png", png_file(3, 1, 8, 0, png_rows({{"\x00\x12\xff", 3}})));
  seed("label", "palette.png", png_file(2, 1, 8, 3, png_rows({{"\x01\x00", 2}}), std::string("\x0a\x0b\x0c\x14\x15\x16", 6)));
  seed("label", "grey4.png", png_file(2, 1, 4, 0, png_rows({{"\x12", 1}})));
  seed("label", "rgb.png", png_file(1, 1, 8, 2, png_rows({{"\x01\x02\x03", 3}})));
  seed("label", "label.jpg", test::jpeg_file(8, 8, 1, std::vector<uint8_t>(64, 3)));
}

void config_seeds() {
  seed("config", "defaults.json", train::to_json(train::TrainConfig{}).dump(2));
  seed("config", "synthetic.json",
       R"({"dataset": "synthetic", "synthetic-size": "64x32", "synthetic-train": 8, "synthetic-val": 2,
           "crop": "32x32", "batch": 4, "iters": 4, "val-every": -1, "device": "cpu", "workers": 1, "lr": 0.5,
           "class-weights": "1,2,3", "scale-range": "0.5,1.5", "jitter": "on", "loss": "ohem"})");
  seed("config", "camvid.json", R"({"dataset": "camvid", "root": "/d", "crop": "480x360", "class-weights": "authors"})");
  seed("config", "bad_crop.json", R"({"dataset": "synthetic", "crop": "0x0"})");
  seed("config", "huge_crop.json", R"({"dataset": "synthetic", "crop": "100000x100000"})");
  seed("config", "huge_iters.json", R"({"dataset": "synthetic", "iters": 99999999999999999999, "workers": 100000})");
  seed("config", "wrong_type.json", R"({"crop": [512, 256], "batch": "12"})");
  seed("config", "not_object.json", "[1, 2]");
}

void checkpoint_seeds() {
  train::TrainConfig config;
  config.dataset = "synthetic";
  config.activation = "prelu";
  const std::map<std::string, std::string> meta = {
      {"format", train::kCheckpointFormat}, {"format_version", "1"}, {"iteration", "3"}, {"epoch", "0"},
      {"best_miou", "0.25"},  {"best_iteration", "2"}, {"last_miou", "0.125"}, {"seed", "0"},
      {"config", train::to_json(config).dump()}};
  seed("checkpoint", "tiny", safetensors_bytes({{"model.seg_head_x2.3.weight", Tensor::zeros({19, 16, 1, 1})},
                                                {"model.Stem_Conv.2.weight", Tensor::zeros({4})},
                                                {"optim.momentum.Stem_Conv.2.weight", Tensor::zeros({4})}},
                                               meta));
  BatchNorm2d bn(2);
  train::RunState state;
  state.config = train::to_json(config);
  const std::string tmp = (root / "tmp.safetensors").string();
  train::save_checkpoint(tmp, bn, {{"weight", Tensor::zeros({2})}}, state);
  seed("checkpoint", "batchnorm", read_file(tmp));
  fs::remove(tmp);
  std::map<std::string, std::string> bad = meta;
  bad["iteration"] = "99999999999999999999";
  bad["config"] = R"({"crop": "100000x100000", "workers": -1})";
  seed("checkpoint", "bad_state", safetensors_bytes({{"model.x", Tensor::zeros({1})}}, bad));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fuzz_make_seeds CORPUS_DIR\n";
    return 2;
  }
  root = argv[1];
  fs::create_directories(root);
  safetensors_seeds();
  image_seeds();
  label_seeds();
  config_seeds();
  checkpoint_seeds();
  return 0;
}
