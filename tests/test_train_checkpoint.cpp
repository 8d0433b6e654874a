// Checkpoint files (round trip, refusal of a file cut short), log.jsonl and curves.svg.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/safetensors.h"
#include "examples/train_checkpoint.h"
#include "examples/train_curves.h"
#include "examples/train_log.h"
#include "layers/batchnorm.h"
#include "layers/conv.h"
#include "layers/sequential.h"
#include "tests/test_util.h"

namespace pmsdsen::train {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<Sequential> small_model(uint64_t seed) {
  Generator gen(seed);
  auto m = std::make_shared<Sequential>();
  m->push_back(std::make_shared<Conv2d>(Conv2dSpec{3, 5, 3, 1, 1, 1, 1, true}, gen));
  m->push_back(std::make_shared<BatchNorm2d>(5));
  return m;
}

std::vector<float> floats(const Tensor& t) { return t.detach().cpu().to(DType::F32).to_vector<float>(); }

TEST(Checkpoint, RoundTripIsExact) {
  const std::string dir = test::temp_dir("ckpt_roundtrip");
  auto model = small_model(1);
  auto params = model->named_parameters();
  // Momentum for the conv weight only: the others have not stepped yet.
  Generator gen(5);
  Tensor buf = Tensor::empty(params[0].second.shape());
  for (int64_t i = 0; i < buf.numel(); ++i) buf.data<float>()[i] = static_cast<float>(gen.normal());
  std::vector<std::pair<std::string, Tensor>> momentum = {{params[0].first, buf}, {params[1].first, Tensor()}};
  auto bufs = model->named_buffers();
  bufs[0].second.data<float>()[2] = 0.123456789f;  // running_mean
  bufs[2].second.data<int64_t>()[0] = 42;           // num_batches_tracked

  RunState s;
  s.iteration = 1234;
  s.epoch = 7;
  s.best_miou = 0.61234567890123;
  s.best_iteration = 1000;
  s.last_miou = 0.6;
  s.seed = 99;
  s.config = {{"dataset", "synthetic"}, {"batch", 4}};
  const std::string path = dir + "/last.safetensors";
  save_checkpoint(path, *model, momentum, s);

  const Checkpoint c = load_checkpoint(path);
  EXPECT_EQ(c.state.iteration, 1234);
  EXPECT_EQ(c.state.epoch, 7);
  EXPECT_EQ(c.state.best_miou, s.best_miou);  // printed with 17 digits: exact
  EXPECT_EQ(c.state.best_iteration, 1000);
  EXPECT_EQ(c.state.seed, 99);
  EXPECT_EQ(c.state.config, s.config);
  ASSERT_EQ(c.momentum.size(), 1u);
  EXPECT_EQ(floats(c.momentum.at(params[0].first)), floats(buf));
  auto other = small_model(2);
  other->load_state_dict(c.model);
  for (const auto& [name, t] : model->state_dict()) {
    if (is_floating(t.dtype())) {
      EXPECT_EQ(floats(other->state_dict().at(name)), floats(t)) << name;
    }
  }
  EXPECT_EQ(other->named_buffers()[2].second.item<int64_t>(), 42);

  // --init / --weights read a checkpoint's model tensors by their plain names.
  const Safetensors weights = load_weights_file(path);
  EXPECT_EQ(weights.tensors.size(), model->state_dict().size());
  EXPECT_TRUE(weights.tensors.count("0.weight"));
  fs::remove_all(dir);
}

TEST(Checkpoint, FileCutShortIsRefusedNamingIt) {
  const std::string dir = test::temp_dir("ckpt_truncated");
  auto model = small_model(1);
  RunState s;
  const std::string path = dir + "/last.safetensors";
  save_checkpoint(path, *model, {}, s);
  const auto full = fs::file_size(path);
  // Cut inside the data, inside the header, and inside the header length.
  for (uintmax_t keep : {full - 1, full / 2, uintmax_t(20), uintmax_t(5)}) {
    const std::string cut = dir + "/cut.safetensors";
    fs::copy_file(path, cut, fs::copy_options::overwrite_existing);
    fs::resize_file(cut, keep);
    try {
      load_checkpoint(cut);
      FAIL() << "a checkpoint cut to " << keep << " of " << full << " bytes loaded";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(cut), std::string::npos) << e.what();
    }
  }
  fs::remove_all(dir);
}

TEST(Checkpoint, ForeignFileIsRefused) {
  const std::string dir = test::temp_dir("ckpt_foreign");
  save_safetensors(dir + "/w.safetensors", {{"x", Tensor::zeros({2})}});
  try {
    load_checkpoint(dir + "/w.safetensors");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a pmsdsen training checkpoint"), std::string::npos) << e.what();
  }
  // As weights it is fine: tensors by name.
  EXPECT_EQ(load_weights_file(dir + "/w.safetensors").tensors.count("x"), 1u);
  fs::remove_all(dir);
}

TEST(Checkpoint, OverwriteKeepsTheOldFileUntilTheNewOneIsComplete) {
  // The atomic write goes to a temporary file renamed over the target: while writing,
  // the old file is untouched, and no temporary is left behind afterwards.
  const std::string dir = test::temp_dir("ckpt_atomic");
  auto model = small_model(1);
  RunState s;
  s.iteration = 10;
  const std::string path = dir + "/last.safetensors";
  save_checkpoint(path, *model, {}, s);
  s.iteration = 20;
  save_checkpoint(path, *model, {}, s);
  EXPECT_EQ(load_checkpoint(path).state.iteration, 20);
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
  fs::remove_all(dir);
}

TEST(Checkpoint, AllFinite) {
  auto model = small_model(1);
  EXPECT_TRUE(all_finite(*model));
  model->named_parameters()[1].second.data<float>()[0] = NAN;
  EXPECT_FALSE(all_finite(*model));
}

TEST(RunLog, ResumeDropsLaterAndTornRecords) {
  const std::string dir = test::temp_dir("runlog");
  const std::string path = dir + "/log.jsonl";
  {
    RunLog log(path, -1);
    for (int i = 10; i <= 40; i += 10) log.append({{"kind", "train"}, {"iter", i}, {"loss", 1.0 / i}, {"lr", 0.1}});
    log.append({{"kind", "val"}, {"iter", 40}, {"miou", 0.25}});
  }
  {
    std::ofstream torn(path, std::ios::app);
    torn << "{\"kind\": \"train\", \"it";  // a kill in the middle of a line
  }
  EXPECT_EQ(read_log(path).size(), 5u);
  RunLog resumed(path, 30);
  EXPECT_EQ(resumed.records().size(), 3u);
  resumed.append({{"kind", "train"}, {"iter", 40}, {"loss", 0.5}, {"lr", 0.05}});
  const auto back = read_log(path);
  ASSERT_EQ(back.size(), 4u);
  EXPECT_EQ(back[2]["iter"], 30);
  EXPECT_EQ(back[3]["loss"], 0.5);
  fs::remove_all(dir);
}

TEST(Curves, SvgHasBothSeries) {
  std::vector<nlohmann::json> r;
  for (int i = 1; i <= 100; ++i) r.push_back({{"kind", "train"}, {"iter", i * 10}, {"loss", 3.0 / i}, {"lr", 0.1}});
  r.push_back({{"kind", "val"}, {"iter", 500}, {"miou", 0.3}});
  r.push_back({{"kind", "val"}, {"iter", 1000}, {"miou", 0.45}});
  const std::string svg = curves_svg(r, 1000, "run <a & b>");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find("<circle"), std::string::npos);
  EXPECT_NE(svg.find("mIoU 45.0% (best 45.0% at 1000)"), std::string::npos);
  EXPECT_NE(svg.find("run &lt;a &amp; b&gt;"), std::string::npos);
  // No data yet: still a valid picture.
  const std::string empty = curves_svg({}, 100, "empty");
  EXPECT_NE(empty.find("</svg>"), std::string::npos);
  EXPECT_EQ(empty.find("<polyline"), std::string::npos);
}

}  // namespace
}  // namespace pmsdsen::train
