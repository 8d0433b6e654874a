// Training augmentation: labels stay aligned with pixels through scale, crop and flip;
// colour jitter follows PIL's formulas; draws are reproducible.
#include <gtest/gtest.h>

#include <cmath>

#include "data/augment.h"
#include "tests/test_data_util.h"

namespace pmsdsen::data {
namespace {

AugmentParams identity_params(int64_t h, int64_t w) {
  AugmentParams p;
  p.scaled_height = p.crop_height = h;
  p.scaled_width = p.crop_width = w;
  return p;
}

TEST(DataAugment, FlipMirrorsImageAndLabelTogether) {
  Image im;
  LabelMap lab;
  test::block_pattern(12, 20, 3, 7, 1, im, lab);
  AugmentParams p = identity_params(12, 20);
  p.flip = true;
  Image oi;
  LabelMap ol;
  apply_augment(im, lab, p, oi, ol);
  for (int64_t y = 0; y < 12; ++y)
    for (int64_t x = 0; x < 20; ++x) {
      for (int k = 0; k < 3; ++k) ASSERT_EQ(oi.at(y, x)[k], im.at(y, 19 - x)[k]);
      ASSERT_EQ(ol.at(y, x), lab.at(y, 19 - x));
    }
}

TEST(DataAugment, CropTakesTheSameWindowOfBoth) {
  Image im;
  LabelMap lab;
  test::block_pattern(30, 40, 5, 9, 2, im, lab);
  AugmentParams p = identity_params(30, 40);
  p.crop_height = 10;
  p.crop_width = 16;
  p.crop_y = 7;
  p.crop_x = 13;
  Image oi;
  LabelMap ol;
  apply_augment(im, lab, p, oi, ol);
  ASSERT_EQ(oi.height, 10);
  ASSERT_EQ(ol.width, 16);
  for (int64_t y = 0; y < 10; ++y)
    for (int64_t x = 0; x < 16; ++x) {
      for (int k = 0; k < 3; ++k) ASSERT_EQ(oi.at(y, x)[k], im.at(y + 7, x + 13)[k]);
      ASSERT_EQ(ol.at(y, x), lab.at(y + 7, x + 13));
    }
}

TEST(DataAugment, SmallImagesArePaddedWithBlackAndIgnore) {
  Image im;
  LabelMap lab;
  test::block_pattern(6, 8, 2, 4, 3, im, lab);
  AugmentConfig c;
  c.crop_height = 10;
  c.crop_width = 13;
  c.flip = false;
  Generator gen(1);
  const AugmentParams p = draw_augment(6, 8, c, gen);
  EXPECT_EQ(p.pad_y, 2);  // int((1 + 10 - 6) / 2), the authors' RandomCrop2
  EXPECT_EQ(p.pad_x, 3);  // int((1 + 13 - 8) / 2)
  Image oi;
  LabelMap ol;
  apply_augment(im, lab, p, oi, ol);
  const int64_t top = p.pad_y - p.crop_y, left = p.pad_x - p.crop_x;
  int64_t padded = 0;
  for (int64_t y = 0; y < 10; ++y)
    for (int64_t x = 0; x < 13; ++x) {
      const int64_t sy = y - top, sx = x - left;
      if (sy >= 0 && sy < 6 && sx >= 0 && sx < 8) {
        ASSERT_EQ(ol.at(y, x), lab.at(sy, sx));
        ASSERT_EQ(oi.at(y, x)[1], im.at(sy, sx)[1]);
      } else {
        ++padded;
        ASSERT_EQ(ol.at(y, x), kIgnoreLabel);
        ASSERT_EQ(oi.at(y, x)[0], 0);
      }
    }
  EXPECT_EQ(padded, 10 * 13 - 6 * 8);
}

// Counts label-interior pixels (3x3 neighbourhood of one label) whose colour is not the
// planted colour of that label (black for ignore). Zero when image and label are aligned.
int64_t misaligned_pixels(const Image& im, const LabelMap& lab, int64_t* checked) {
  int64_t bad = 0;
  *checked = 0;
  for (int64_t y = 1; y + 1 < lab.height; ++y)
    for (int64_t x = 1; x + 1 < lab.width; ++x) {
      const uint8_t l = lab.at(y, x);
      bool interior = true;
      for (int dy = -1; dy <= 1 && interior; ++dy)
        for (int dx = -1; dx <= 1; ++dx) interior &= lab.at(y + dy, x + dx) == l;
      if (!interior) continue;
      ++*checked;
      const Rgb want = l == kIgnoreLabel ? Rgb{0, 0, 0} : test::class_colour(l);
      for (int k = 0; k < 3; ++k)
        if (std::abs(im.at(y, x)[k] - want[k]) > 1) {
          ++bad;
          break;
        }
    }
  return bad;
}

TEST(DataAugment, ScaleCropAndFlipKeepLabelsOnTheirPixels) {
  Image im;
  LabelMap lab;
  test::block_pattern(96, 160, 8, 12, 4, im, lab);
  AugmentConfig c;
  c.crop_height = 64;
  c.crop_width = 96;
  c.scale_min = 0.25;
  c.scale_max = 2.0;
  int64_t total_checked = 0, flips = 0, padded = 0;
  for (uint64_t i = 0; i < 40; ++i) {
    Generator gen = Generator::derive(9, {0, i});
    const AugmentParams p = draw_augment(96, 160, c, gen);
    flips += p.flip;
    padded += p.pad_x > 0 || p.pad_y > 0;
    Image oi;
    LabelMap ol;
    apply_augment(im, lab, p, oi, ol);
    int64_t checked = 0;
    EXPECT_EQ(misaligned_pixels(oi, ol, &checked), 0) << "draw " << i << ", scale " << p.scale;
    total_checked += checked;
  }
  EXPECT_GT(total_checked, 40 * 64 * 96 / 3);  // the check saw most pixels
  EXPECT_GT(flips, 5);
  EXPECT_GT(padded, 5);

  // The check itself catches a one-pixel shift and a flip of the label alone.
  AugmentParams p = identity_params(96, 160);
  p.scale = 0.75;
  p.scaled_height = 72;
  p.scaled_width = 120;
  p.crop_height = 64;
  p.crop_width = 96;
  p.crop_x = 10;
  Image oi, oi_shift;
  LabelMap ol, ol_shift;
  apply_augment(im, lab, p, oi, ol);
  p.crop_x = 11;
  apply_augment(im, lab, p, oi_shift, ol_shift);
  int64_t checked = 0;
  EXPECT_EQ(misaligned_pixels(oi, ol, &checked), 0);
  EXPECT_GT(misaligned_pixels(oi, ol_shift, &checked), 100);
  p.crop_x = 10;
  p.flip = true;
  apply_augment(im, lab, p, oi_shift, ol_shift);
  EXPECT_GT(misaligned_pixels(oi, ol_shift, &checked), 1000);
}

TEST(DataAugment, ColourJitterFollowsPilAndLeavesLabelsAlone) {
  Image px(1, 1);
  px.at(0, 0)[0] = 200;
  px.at(0, 0)[1] = 100;
  px.at(0, 0)[2] = 50;
  Image j = px;
  color_jitter(j, 1.2, 0.8, 1.5, 120.4);
  // Brightness: 240, 120, 60. Contrast around round(120.4) = 120: 216, 120, 72.
  // Saturation around grey 0.299*216 + 0.587*120 + 0.114*72 = 143.232:
  // 143.232 + 1.5 * (216 - 143.232) = 252.384, then 108.384 and 36.384.
  EXPECT_EQ(j.at(0, 0)[0], 252);
  EXPECT_EQ(j.at(0, 0)[1], 108);
  EXPECT_EQ(j.at(0, 0)[2], 36);
  EXPECT_NEAR(grey_mean(px, 1.0), 0.299 * 200 + 0.587 * 100 + 0.114 * 50, 1e-3);
  EXPECT_NEAR(grey_mean(px, 2.0), 0.299 * 255 + 0.587 * 200 + 0.114 * 100, 1e-3);  // clamped

  Image im;
  LabelMap lab;
  test::block_pattern(40, 60, 5, 6, 5, im, lab);
  AugmentConfig c;
  c.crop_height = 32;
  c.crop_width = 48;
  c.scale_min = 0.5;
  c.scale_max = 1.5;
  c.color_jitter = true;
  Generator gen(3);
  AugmentParams p = draw_augment(40, 60, c, gen);
  EXPECT_NE(p.brightness, 1.0);
  EXPECT_GE(p.saturation, 0.5);
  EXPECT_LE(p.saturation, 1.5);
  Image a, b;
  LabelMap la, lb;
  apply_augment(im, lab, p, a, la);
  p.brightness = p.contrast = p.saturation = 1.0;
  apply_augment(im, lab, p, b, lb);
  EXPECT_EQ(la.ids, lb.ids);
  EXPECT_NE(a.pixels, b.pixels);
}

TEST(DataAugment, DrawsAreReproducibleAndScaleIsLogUniform) {
  AugmentConfig c;
  c.crop_height = 256;
  c.crop_width = 512;
  c.scale_min = 0.25;
  c.scale_max = 1.0;
  c.color_jitter = true;
  auto draw = [&](uint64_t seed, uint64_t epoch, uint64_t index) {
    Generator g = Generator::derive(seed, {epoch, index});
    return draw_augment(1024, 2048, c, g);
  };
  const AugmentParams a = draw(1, 2, 3), b = draw(1, 2, 3), other = draw(1, 2, 4);
  EXPECT_EQ(a.scale, b.scale);
  EXPECT_EQ(a.crop_x, b.crop_x);
  EXPECT_EQ(a.brightness, b.brightness);
  EXPECT_EQ(a.flip, b.flip);
  EXPECT_NE(a.scale, other.scale);

  double log_sum = 0;
  for (uint64_t i = 0; i < 4000; ++i) {
    const AugmentParams p = draw(7, 0, i);
    ASSERT_GE(p.scale, 0.25);
    ASSERT_LE(p.scale, 1.0);
    ASSERT_EQ(p.scaled_width, std::llround(2048 * p.scale));
    ASSERT_GE(p.crop_x, 0);
    ASSERT_LE(p.crop_x, p.scaled_width + 2 * p.pad_x - 512);
    log_sum += std::log2(p.scale);
  }
  EXPECT_NEAR(log_sum / 4000, -1.0, 0.03);  // the mean of log2 over [-2, 0]
}

TEST(DataAugment, TheAuthorsSettings) {
  const AugmentConfig s1 = authors_augmentation("cityscapes", 512, 256);
  EXPECT_TRUE(s1.color_jitter);
  EXPECT_EQ(s1.scale_min, 0.25);
  EXPECT_EQ(s1.scale_max, 0.5);
  const AugmentConfig s2 = authors_augmentation("cityscapes", 1024, 512);
  EXPECT_EQ(s2.scale_min, 0.35);
  EXPECT_EQ(s2.scale_max, 1.0);
  EXPECT_EQ(s2.crop_width, 1024);
  EXPECT_EQ(s2.crop_height, 512);
  const AugmentConfig cv = authors_augmentation("camvid", 480, 360);
  EXPECT_FALSE(cv.color_jitter);
  EXPECT_TRUE(cv.flip);
  test::expect_error_naming([] { authors_augmentation("kitti", 1, 1); }, {"kitti"});
}

TEST(DataAugment, NormalisationUsesTheImagenetStatistics) {
  Image im(1, 2);
  im.pixels = {255, 0, 128, 10, 20, 30};
  const Tensor t = image_tensor(im);
  ASSERT_EQ(t.shape(), (Shape{1, 3, 1, 2}));
  const std::vector<float> v = t.to_vector<float>();
  EXPECT_NEAR(v[0], (1.0 - 0.485) / 0.229, 1e-5);             // R of pixel 0
  EXPECT_NEAR(v[1], (10 / 255.0 - 0.485) / 0.229, 1e-5);       // R of pixel 1
  EXPECT_NEAR(v[2], (0.0 - 0.456) / 0.224, 1e-5);              // G of pixel 0
  EXPECT_NEAR(v[5], (30 / 255.0 - 0.406) / 0.225, 1e-5);       // B of pixel 1
  LabelMap l(1, 2);
  l.ids = {3, 255};
  EXPECT_EQ(label_tensor(l).to_vector<int64_t>(), (std::vector<int64_t>{3, 255}));
}

}  // namespace
}  // namespace pmsdsen::data
