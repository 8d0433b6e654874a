// The one prediction path (models/predict.h): padding to multiples of 8 and cropping
// back, the scale, the argmax. The commands' own tests check that segment, eval, demo and
// validation go through it.
#include <gtest/gtest.h>

#include "autograd/grad_mode.h"
#include "autograd/ops_argmax.h"
#include "core/rng.h"
#include "models/pad_crop.h"
#include "models/pmsdsen.h"
#include "models/predict.h"
#include "tests/test_data_util.h"

namespace pmsdsen {
namespace {

Tensor random_image(int64_t h, int64_t w) {
  Generator gen(h * 100 + w);
  std::vector<float> v(3 * h * w);
  for (float& x : v) x = static_cast<float>(gen.uniform(-2.0, 2.0));
  return Tensor::from_vector(v, {1, 3, h, w});
}

TEST(Predictor, ModelLogitsAreThoseOfThePaddedImageCroppedBack) {
  Generator gen(3);
  PMSDSEN model(PmsdsenConfig{19, Activation::GELU}, gen);
  model.eval();
  const Predictor predictor(model);
  EXPECT_EQ(predictor.num_classes(), 19);
  EXPECT_EQ(predictor.device(), Device::cpu());
  const Tensor image = random_image(37, 53);
  const Tensor logits = predictor.logits(image);
  ASSERT_EQ(logits.shape(), (Shape{1, 19, 37, 53}));
  Tensor padded;
  {
    autograd::NoGradGuard no_grad;
    padded = model.forward(pad_to_multiple(image, 8));
  }
  ASSERT_EQ(padded.shape(), (Shape{1, 19, 40, 56}));
  EXPECT_EQ(logits.to_vector<float>(), crop_top_left(padded, 37, 53).to_vector<float>());
  // The ids are the argmax of those logits; at a multiple of 8 nothing is padded.
  EXPECT_EQ(predictor.class_ids(image).to_vector<int64_t>(), ops::argmax_channels(logits).to_vector<int64_t>());
  const Tensor whole = random_image(32, 48);
  autograd::NoGradGuard no_grad;
  EXPECT_EQ(predictor.logits(whole).to_vector<float>(), model.forward(whole).to_vector<float>());
}

// A network that pads, as PMSDSEN's does: logits 5 rows and 3 columns larger than its
// input, whose top-left part says class (x + 2y) % 3 and whose padding says class 2.
Predictor padding_network(int* calls) {
  return Predictor(
      [calls](const Tensor& image) {
        ++*calls;
        const int64_t h = image.size(2), w = image.size(3), H = h + 5, W = w + 3;
        std::vector<float> v(3 * H * W, 0.f);
        for (int64_t y = 0; y < H; ++y)
          for (int64_t x = 0; x < W; ++x) v[((y < h && x < w ? (x + 2 * y) % 3 : 2) * H + y) * W + x] = 1.f;
        return Tensor::from_vector(v, {1, 3, H, W});
      },
      3);
}

TEST(Predictor, PaddedLogitsAreCroppedAndScaledBack) {
  int calls = 0;
  const Predictor predictor = padding_network(&calls);
  const Tensor ids = predictor.class_ids(random_image(6, 7));
  ASSERT_EQ(ids.shape(), (Shape{1, 6, 7}));
  const std::vector<int64_t> v = ids.to_vector<int64_t>();
  for (int64_t y = 0; y < 6; ++y)
    for (int64_t x = 0; x < 7; ++x) EXPECT_EQ(v[y * 7 + x], (x + 2 * y) % 3) << x << ", " << y;
  EXPECT_EQ(predictor.logits(random_image(6, 7)).shape(), (Shape{1, 3, 6, 7}));
  // At scale 2 the network sees 12 x 14 and its logits come back at 6 x 7, where the
  // pattern is still there at the corners (align_corners=True keeps them).
  const std::vector<int64_t> s = predictor.class_ids(random_image(6, 7), 2.0).to_vector<int64_t>();
  ASSERT_EQ(s.size(), 42u);
  EXPECT_EQ(s[0], 0);
  EXPECT_EQ(s[6], (13 + 0) % 3);
  EXPECT_EQ(s[35], (0 + 2 * 11) % 3);
  EXPECT_EQ(calls, 3);
}

TEST(Predictor, BadInputsAreNamed) {
  int calls = 0;
  const Predictor predictor = padding_network(&calls);
  test::expect_error_naming([&] { predictor.class_ids(Tensor::zeros({1, 1, 4, 4})); }, {"[1, 3, H, W]"});
  test::expect_error_naming([&] { predictor.class_ids(random_image(4, 4), 0.0); }, {"scale must be positive"});
  test::expect_error_naming([&] { Predictor(Network(), 3); }, {"needs a network"});
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace pmsdsen
