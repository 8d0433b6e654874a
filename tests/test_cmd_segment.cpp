// pmsdsen segment on small generated images: output sizes equal input sizes (odd sizes
// too), colours from the palette, ids equal the library's; errors name the file.
#include <set>

#include "autograd/grad_mode.h"
#include "data/augment.h"
#include "data/image.h"
#include "data/palette.h"
#include "models/pad_crop.h"
#include "models/predict.h"
#include "models/weights.h"
#include "tests/test_model_cmd_util.h"
#include "tests/test_model_util.h"

using namespace pmsdsen;

namespace {

const std::string& weights_file() {
  static const std::string path = [] {
    const std::string p = test::temp_file("seg_weights.safetensors");
    PMSDSEN model;
    model.load_state_dict(test::fixture_state_dict(test::model_fixture("gelu")));  // trained-looking BN statistics
    save_weights(model, p);
    return p;
  }();
  return path;
}

// Random networks predict one class everywhere (the class offsets dwarf the spatial
// variation). For a test that can see pixels disagree, centre each class's logit over
// this image: the prediction head's last BN subtracts the image mean of each class.
std::string calibrated_weights(const data::Image& image) {
  auto model = load_pmsdsen(weights_file());
  model->eval();
  auto sd = model->state_dict();
  sd["seg_head_x2.4.running_mean"].zero_();
  sd["seg_head_x2.4.running_var"].fill_(1.0 - 1e-5);
  sd["seg_head_x2.4.weight"].fill_(1.0);
  sd["seg_head_x2.4.bias"].zero_();
  Tensor logits;
  {
    autograd::NoGradGuard no_grad;
    logits = model->forward(pad_to_multiple(data::image_tensor(image), 8));
  }
  const int64_t k = logits.size(1), plane = logits.size(2) * logits.size(3);
  const float* l = logits.data<float>();
  float* mean = sd["seg_head_x2.4.running_mean"].data<float>();
  for (int64_t c = 0; c < k; ++c) {
    double s = 0;
    for (int64_t i = 0; i < plane; ++i) s += l[c * plane + i];
    mean[c] = static_cast<float>(s / plane);
  }
  const std::string p = test::temp_file("seg_calibrated.safetensors");
  save_weights(*model, p);
  return p;
}

data::Image make_image(int64_t h, int64_t w) {
  data::Image img(h, w);
  Generator gen(h * 1000 + w);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        img.at(y, x)[c] = static_cast<uint8_t>((x * 7 + y * 3 * (c + 1)) % 256 / 2 + gen.randint(0, 100));
  return img;
}

}  // namespace

TEST(CmdSegment, OutputsHaveTheInputSizeAndPaletteColours) {
  const auto& palette = data::cityscapes_palette();
  const std::set<data::Rgb> colours(palette.begin(), palette.end());
  for (auto [h, w, scale] : std::vector<std::tuple<int64_t, int64_t, double>>{{37, 53, 1.0}, {48, 64, 1.0}, {45, 61, 0.5}}) {
    const std::string in = test::temp_file("seg_in.png"), pred = test::temp_file("seg_pred.png"),
                      over = test::temp_file("seg_overlay.png"), ids = test::temp_file("seg_ids.png");
    const data::Image image = make_image(h, w);
    data::write_png(in, image);
    const std::string weights = calibrated_weights(image);
    auto r = test::run_tool("segment --device cpu --weights " + weights + " --image " + in + " --output " + pred +
                            " --overlay " + over + " --ids " + ids + " --scale " + std::to_string(scale));
    ASSERT_EQ(r.status, 0) << r.output;
    const data::Image p = data::read_image(pred), o = data::read_image(over);
    const data::RawLabel id = data::read_raw_label(ids);
    EXPECT_EQ(p.height, h);
    EXPECT_EQ(p.width, w);
    EXPECT_EQ(o.height, h);
    EXPECT_EQ(o.width, w);
    ASSERT_EQ(id.height, h);
    ASSERT_EQ(id.width, w);
    // Ids and colours agree, pixel by pixel, and are what the library predicts.
    auto model = load_pmsdsen(weights);
    model->eval();
    const Tensor lib = Predictor(*model).class_ids(data::image_tensor(image), scale);
    const int64_t* expected = lib.data<int64_t>();
    int64_t mismatches = 0;
    std::set<int> seen;
    for (int64_t i = 0; i < h * w; ++i) {
      const int v = id.values[i];
      ASSERT_LT(v, 19);
      seen.insert(v);
      mismatches += v != expected[i];
      const data::Rgb c{p.pixels[i * 3], p.pixels[i * 3 + 1], p.pixels[i * 3 + 2]};
      ASSERT_TRUE(colours.count(c)) << "pixel " << i;
      EXPECT_EQ(c, palette[v]) << "pixel " << i;
    }
    EXPECT_EQ(mismatches, 0) << h << "x" << w;
    EXPECT_GT(seen.size(), 1u) << "a constant prediction tests little";
  }
}

TEST(CmdSegment, ErrorsNameTheFile) {
  const std::string in = test::temp_file("seg_err_in.png");
  data::write_png(in, make_image(16, 16));
  const std::string out = " --output " + test::temp_file("seg_err_pred.png") + " --overlay " +
                          test::temp_file("seg_err_overlay.png");

  auto r = test::run_tool("segment --weights " + weights_file() + " --image " + test::temp_file("nope.png") + out);
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "nope.png");

  const std::string text = test::temp_file("not_an_image.png");
  std::FILE* f = std::fopen(text.c_str(), "w");
  std::fputs("plain text", f);
  std::fclose(f);
  r = test::run_tool("segment --weights " + weights_file() + " --image " + text + out);
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "not_an_image.png");

  const std::string no_net = test::temp_file("no_net.safetensors");
  save_safetensors(no_net, {{"input", Tensor::zeros({1})}});
  r = test::run_tool("segment --weights " + no_net + " --image " + in + out);
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "'" + no_net + "' holds no PMSDSEN weights");

  r = test::run_tool("segment --weights " + weights_file() + " --image " + in + " --palette camvid" + out);
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "the camvid palette has 11 colours, '" + weights_file() + "' has 19 classes");

  const std::string five = test::temp_file("five.safetensors");
  save_weights(PMSDSEN({5, Activation::GELU}), five);
  r = test::run_tool("segment --weights " + five + " --image " + in + out);
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "has 5 classes; choose the colours with --palette");
  r = test::run_tool("segment --weights " + five + " --image " + in + " --palette camvid" + out);
  EXPECT_EQ(r.status, 0) << r.output;

  r = test::run_tool("segment --image " + in);
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "--weights is required");
  r = test::run_tool("segment --weights " + weights_file() + " --image " + in + " --scale 0" + out);
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "--scale must be in (0, 8]");
  for (const std::string& p : {in, text, no_net, five}) std::remove(p.c_str());
}

TEST(CmdSegment, CudaGivesTheCpuPrediction) {
  PMSDSEN_REQUIRE_CUDA();
  const data::Image image = make_image(45, 61);
  const std::string in = test::temp_file("seg_cuda_in.png"), ids = test::temp_file("seg_cuda_ids.png");
  data::write_png(in, image);
  const std::string weights = calibrated_weights(image);
  auto r = test::run_tool("segment --device cuda --weights " + weights + " --image " + in + " --ids " + ids +
                          " --output " + test::temp_file("seg_cuda_pred.png") + " --overlay " +
                          test::temp_file("seg_cuda_overlay.png"));
  ASSERT_EQ(r.status, 0) << r.output;
  auto model = load_pmsdsen(weights);
  model->eval();
  const Tensor cpu = Predictor(*model).class_ids(data::image_tensor(image));
  const data::RawLabel gpu = data::read_raw_label(ids);
  ASSERT_EQ(gpu.height * gpu.width, cpu.numel());
  int64_t differ = 0;
  for (int64_t i = 0; i < cpu.numel(); ++i) differ += gpu.values[i] != cpu.data<int64_t>()[i];
  EXPECT_LE(differ, cpu.numel() / 200) << "pixels whose class differs between CUDA and CPU (near-ties only)";
}
