// Image and label files, resizing, colourisation.
#include <gtest/gtest.h>

#include <cmath>

#include "data/image.h"
#include "data/palette.h"
#include "data/resize.h"
#include "tests/test_data_util.h"

namespace pmsdsen::data {
namespace {

using test::expect_error_naming;
using test::TempDir;

TEST(DataImage, RgbPngRoundTripIsExact) {
  TempDir dir;
  const Image im = test::ramp_image(17, 23);
  write_png(dir / "a.png", im);
  const Image back = read_image(dir / "a.png");
  EXPECT_EQ(back.height, 17);
  EXPECT_EQ(back.width, 23);
  EXPECT_EQ(back.pixels, im.pixels);
}

TEST(DataImage, JpegIsDecodedToRgb) {
  TempDir dir;
  Image im(16, 24);
  for (int64_t y = 0; y < 16; ++y)
    for (int64_t x = 0; x < 24; ++x) {
      im.at(y, x)[0] = 200;
      im.at(y, x)[1] = 60;
      im.at(y, x)[2] = 30;
    }
  write_jpeg(dir / "a.jpg", im, 95);
  const Image back = read_image(dir / "a.jpg");
  ASSERT_EQ(back.height, 16);
  ASSERT_EQ(back.width, 24);
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(back.at(8, 12)[k], im.at(8, 12)[k], 4) << "channel " << k;
}

TEST(DataImage, EightAndSixteenBitLabelsReadExactly) {
  TempDir dir;
  LabelMap l8(3, 4);
  for (int64_t i = 0; i < 12; ++i) l8.ids[i] = static_cast<uint8_t>(i * 20);
  write_png(dir / "l8.png", l8);
  const RawLabel r8 = read_raw_label(dir / "l8.png");
  EXPECT_EQ(r8.bits, 8);
  EXPECT_EQ(r8.height, 3);
  EXPECT_EQ(r8.width, 4);
  for (int64_t i = 0; i < 12; ++i) EXPECT_EQ(r8.values[i], i * 20);

  const std::vector<uint16_t> v16 = {0, 7, 33, 255, 256, 300, 1000, 65535};
  write_png16(dir / "l16.png", 2, 4, v16);
  const RawLabel r16 = read_raw_label(dir / "l16.png");
  EXPECT_EQ(r16.bits, 16);
  EXPECT_EQ(r16.height, 2);
  EXPECT_EQ(r16.width, 4);
  EXPECT_EQ(r16.values, v16);
}

TEST(DataImage, ColourLabelIsAnErrorNamingTheFile) {
  TempDir dir;
  write_png(dir / "rgb_label.png", test::ramp_image(4, 4));
  expect_error_naming([&] { read_raw_label(dir / "rgb_label.png"); },
                      {dir / "rgb_label.png", "3 channels"});
}

TEST(DataImage, CorruptAndTruncatedPngsAreErrorsNamingTheFile) {
  TempDir dir;
  test::write_bytes(dir / "garbage.png", "this is not a png file at all");
  expect_error_naming([&] { read_image(dir / "garbage.png"); }, {dir / "garbage.png"});
  expect_error_naming([&] { read_raw_label(dir / "garbage.png"); }, {dir / "garbage.png"});

  // A real PNG (noisy, so that it does not compress to nothing) cut in half.
  Image im(64, 64);
  uint32_t s = 1;
  for (uint8_t& p : im.pixels) p = static_cast<uint8_t>((s = s * 1664525u + 1013904223u) >> 24);
  write_png(dir / "full.png", im);
  const std::string bytes = test::read_bytes(dir / "full.png");
  test::write_bytes(dir / "truncated.png", bytes.substr(0, bytes.size() / 2));
  expect_error_naming([&] { read_image(dir / "truncated.png"); }, {dir / "truncated.png"});

  LabelMap l(64, 64);
  for (uint8_t& p : l.ids) p = static_cast<uint8_t>((s = s * 1664525u + 1013904223u) >> 24);
  write_png(dir / "label.png", l);
  const std::string lb = test::read_bytes(dir / "label.png");
  test::write_bytes(dir / "label_truncated.png", lb.substr(0, lb.size() / 2));
  expect_error_naming([&] { read_raw_label(dir / "label_truncated.png"); }, {dir / "label_truncated.png"});
}

TEST(DataImage, MissingFileIsAnErrorNamingIt) {
  TempDir dir;
  expect_error_naming([&] { read_image(dir / "nope.png"); }, {dir / "nope.png"});
}

TEST(DataResize, SameSizeIsIdentityAndConstantStaysConstant) {
  const Image im = test::ramp_image(13, 19);
  EXPECT_EQ(resize_bilinear(im, 13, 19).pixels, im.pixels);
  Image flat(20, 30, 77);
  for (auto [h, w] : {std::pair{7, 11}, std::pair{40, 70}, std::pair{5, 5}}) {
    const Image r = resize_bilinear(flat, h, w);
    ASSERT_EQ(r.height, h);
    ASSERT_EQ(r.width, w);
    for (uint8_t v : r.pixels) ASSERT_EQ(v, 77);
  }
}

TEST(DataResize, HalvingAveragesEachTwoByTwoBlock) {
  // A checkerboard of 0/255 pixels: halving with a widened triangle filter gives grey
  // (a point-sampling bilinear would return 0 or 255).
  Image im(16, 16);
  for (int64_t y = 0; y < 16; ++y)
    for (int64_t x = 0; x < 16; ++x)
      for (int k = 0; k < 3; ++k) im.at(y, x)[k] = ((x + y) % 2) ? 255 : 0;
  const Image r = resize_bilinear(im, 8, 8);
  for (int64_t y = 1; y < 7; ++y)
    for (int64_t x = 1; x < 7; ++x) EXPECT_NEAR(r.at(y, x)[0], 127.5, 1.0) << y << "," << x;
}

TEST(DataResize, WindowEqualsTheCropOfTheFullResize) {
  const Image im = test::ramp_image(37, 53);
  LabelMap lab(37, 53);
  for (int64_t i = 0; i < 37 * 53; ++i) lab.ids[i] = static_cast<uint8_t>(i % 19);
  for (auto [h, w] : {std::pair{20, 30}, std::pair{70, 90}}) {
    const Image full = resize_bilinear(im, h, w);
    const LabelMap full_l = resize_nearest(lab, h, w);
    const Window win{3, 5, h - 7, w - 9};
    const Image part = resize_bilinear(im, h, w, win);
    const LabelMap part_l = resize_nearest(lab, h, w, win);
    for (int64_t y = 0; y < win.height; ++y)
      for (int64_t x = 0; x < win.width; ++x) {
        for (int k = 0; k < 3; ++k) ASSERT_EQ(part.at(y, x)[k], full.at(y + 3, x + 5)[k]);
        ASSERT_EQ(part_l.at(y, x), full_l.at(y + 3, x + 5));
      }
  }
}

TEST(DataResize, NearestPicksThePixelUnderEachCentre) {
  LabelMap lab(1, 4);
  lab.ids = {10, 11, 12, 13};
  // Doubling: output centres 0.25, 0.75, 1.25, ... -> sources 0, 0, 1, 1, 2, 2, 3, 3.
  const LabelMap up = resize_nearest(lab, 1, 8);
  EXPECT_EQ(up.ids, (std::vector<uint8_t>{10, 10, 11, 11, 12, 12, 13, 13}));
  // Halving: centres at 1, 3 -> sources 1, 3.
  const LabelMap down = resize_nearest(lab, 1, 2);
  EXPECT_EQ(down.ids, (std::vector<uint8_t>{11, 13}));
}

TEST(DataPalette, ColorizeAndOverlay) {
  EXPECT_EQ(cityscapes_class_names().size(), 19u);
  EXPECT_EQ(cityscapes_palette().size(), 19u);
  EXPECT_EQ(camvid_class_names().size(), 11u);
  EXPECT_EQ(camvid_palette().size(), 11u);
  EXPECT_EQ(cityscapes_class_names()[13], "car");
  EXPECT_EQ(cityscapes_palette()[0], (Rgb{128, 64, 128}));
  EXPECT_EQ(camvid_palette()[3], (Rgb{128, 64, 128}));  // road

  LabelMap lab(1, 3);
  lab.ids = {0, 10, kIgnoreLabel};
  const Image c = colorize(lab, cityscapes_palette());
  EXPECT_EQ((std::vector<uint8_t>(c.pixels.begin(), c.pixels.end())),
            (std::vector<uint8_t>{128, 64, 128, 0, 130, 180, 0, 0, 0}));

  Image im(1, 3, 100);
  const Image o = overlay(im, lab, cityscapes_palette(), 0.5);
  EXPECT_EQ(o.at(0, 0)[0], 114);  // (100 + 128) / 2
  EXPECT_EQ(o.at(0, 1)[2], 140);  // (100 + 180) / 2
  EXPECT_EQ(o.at(0, 2)[0], 100);  // ignored pixels keep the image

  const Tensor pred = Tensor::from_vector<int64_t>({13, 2, 0}, {1, 1, 3});
  EXPECT_EQ(label_map_from_tensor(pred).ids, (std::vector<uint8_t>{13, 2, 0}));
}

}  // namespace
}  // namespace pmsdsen::data
