#include "data/augment.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "core/error.h"
#include "data/image_resize.h"

namespace pmsdsen::data {
namespace {

inline float clamp255(float v) { return std::min(std::max(v, 0.f), 255.f); }
inline float grey(float r, float g, float b) { return 0.299f * r + 0.587f * g + 0.114f * b; }

}  // namespace

AugmentConfig authors_augmentation(const std::string& dataset, int64_t crop_width,
                                   int64_t crop_height) {
  AugmentConfig c;
  c.crop_width = crop_width;
  c.crop_height = crop_height;
  if (dataset == "cityscapes") {
    c.color_jitter = true;
    const bool first_stage = crop_width <= 512 && crop_height <= 256;
    c.scale_min = first_stage ? 0.25 : 0.35;
    c.scale_max = first_stage ? 0.5 : 1.0;
  } else if (dataset == "camvid") {
    c.scale_min = 0.35;
    c.scale_max = 1.0;
  } else if (dataset == "synthetic") {
    c.color_jitter = true;
    c.scale_min = 0.75;
    c.scale_max = 1.5;
  } else {
    PMSDSEN_FAIL("augmentation: unknown dataset '", dataset, "' (cityscapes, camvid or synthetic)");
  }
  return c;
}

AugmentParams draw_augment(int64_t height, int64_t width, const AugmentConfig& c, Generator& gen) {
  PMSDSEN_CHECK(height > 0 && width > 0, "augment: empty ", width, "x", height, " image");
  PMSDSEN_CHECK(c.crop_height > 0 && c.crop_width > 0, "augment: crop ", c.crop_width, "x",
                c.crop_height, " is empty");
  PMSDSEN_CHECK(c.scale_min > 0 && c.scale_min <= c.scale_max, "augment: scale range [",
                c.scale_min, ", ", c.scale_max, "] is not 0 < min <= max");
  PMSDSEN_CHECK(c.jitter >= 0 && c.jitter <= 1, "augment: jitter ", c.jitter, " not in [0, 1]");
  AugmentParams p;
  if (c.color_jitter) {
    p.brightness = gen.uniform(1.0 - c.jitter, 1.0 + c.jitter);
    p.contrast = gen.uniform(1.0 - c.jitter, 1.0 + c.jitter);
    p.saturation = gen.uniform(1.0 - c.jitter, 1.0 + c.jitter);
  }
  if (c.scale_min != c.scale_max)
    p.scale = std::exp2(gen.uniform(std::log2(c.scale_min), std::log2(c.scale_max)));
  else
    p.scale = c.scale_min;
  p.scaled_height = std::max<int64_t>(1, std::llround(height * p.scale));
  p.scaled_width = std::max<int64_t>(1, std::llround(width * p.scale));
  p.crop_height = c.crop_height;
  p.crop_width = c.crop_width;
  p.pad_y = std::max<int64_t>(0, (1 + c.crop_height - p.scaled_height) / 2);
  p.pad_x = std::max<int64_t>(0, (1 + c.crop_width - p.scaled_width) / 2);
  p.crop_y = gen.randint(0, p.scaled_height + 2 * p.pad_y - c.crop_height);
  p.crop_x = gen.randint(0, p.scaled_width + 2 * p.pad_x - c.crop_width);
  p.flip = c.flip && gen.bernoulli(0.5);
  return p;
}

double grey_mean(const Image& image, double brightness) {
  // Per-channel histograms: the grey level is linear in the clamped channels, so their
  // means give the exact mean at a fraction of the per-pixel cost.
  std::array<std::array<int64_t, 256>, 3> hist{};
  const uint8_t* p = image.pixels.data();
  for (int64_t i = 0; i < image.height * image.width; ++i, p += 3) {
    ++hist[0][p[0]];
    ++hist[1][p[1]];
    ++hist[2][p[2]];
  }
  const float b = static_cast<float>(brightness);
  double mean[3] = {0, 0, 0};
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v) mean[c] += static_cast<double>(hist[c][v]) * clamp255(b * v);
  const double n = static_cast<double>(std::max<int64_t>(1, image.height * image.width));
  return (0.299 * mean[0] + 0.587 * mean[1] + 0.114 * mean[2]) / n;
}

void color_jitter(Image& image, double brightness, double contrast, double saturation,
                  double grey_mean_value) {
  const float c = static_cast<float>(contrast), s = static_cast<float>(saturation);
  const float m = std::floor(static_cast<float>(grey_mean_value) + 0.5f);  // PIL rounds it
  // Brightness then contrast act on each channel alone: one table for both.
  std::array<float, 256> bc;
  for (int v = 0; v < 256; ++v)
    bc[v] = clamp255(m + c * (clamp255(static_cast<float>(brightness) * v) - m));
  uint8_t* p = image.pixels.data();
  for (int64_t i = 0; i < image.height * image.width; ++i, p += 3) {
    const float r = bc[p[0]], g = bc[p[1]], b = bc[p[2]];
    const float y = grey(r, g, b);
    p[0] = static_cast<uint8_t>(clamp255(y + s * (r - y)) + 0.5f);
    p[1] = static_cast<uint8_t>(clamp255(y + s * (g - y)) + 0.5f);
    p[2] = static_cast<uint8_t>(clamp255(y + s * (b - y)) + 0.5f);
  }
}

void apply_augment(const Image& image, const LabelMap& label, const AugmentParams& p,
                   Image& out_image, LabelMap& out_label) {
  PMSDSEN_CHECK(image.height == label.height && image.width == label.width,
                "augment: image ", image.width, "x", image.height, " and label ", label.width,
                "x", label.height, " differ");
  out_image = Image(p.crop_height, p.crop_width, 0);
  out_label = LabelMap(p.crop_height, p.crop_width, kIgnoreLabel);

  // The part of the scaled image inside the crop, in scaled-image coordinates.
  const int64_t top = p.crop_y - p.pad_y, left = p.crop_x - p.pad_x;
  const int64_t y0 = std::max<int64_t>(0, top), y1 = std::min(p.scaled_height, top + p.crop_height);
  const int64_t x0 = std::max<int64_t>(0, left), x1 = std::min(p.scaled_width, left + p.crop_width);
  if (y1 <= y0 || x1 <= x0) return;
  const Window win{y0, x0, y1 - y0, x1 - x0};
  Image part = resize_bilinear(image, p.scaled_height, p.scaled_width, win);
  const LabelMap part_label = resize_nearest(label, p.scaled_height, p.scaled_width, win);
  if (p.brightness != 1.0 || p.contrast != 1.0 || p.saturation != 1.0)
    color_jitter(part, p.brightness, p.contrast, p.saturation,
                 p.contrast != 1.0 ? grey_mean(image, p.brightness) : 0.0);

  for (int64_t y = 0; y < win.height; ++y) {
    const int64_t oy = y0 - top + y;
    for (int64_t x = 0; x < win.width; ++x) {
      const int64_t ox0 = x0 - left + x;
      const int64_t ox = p.flip ? p.crop_width - 1 - ox0 : ox0;
      std::copy_n(part.at(y, x), 3, out_image.at(oy, ox));
      out_label.at(oy, ox) = part_label.at(y, x);
    }
  }
}

void normalize_into(const Image& image, const Normalization& n, float* chw) {
  const int64_t hw = image.height * image.width;
  for (int c = 0; c < 3; ++c) {
    const float scale = 1.f / (255.f * n.std[c]), shift = -n.mean[c] / n.std[c];
    float* d = chw + c * hw;
    const uint8_t* s = image.pixels.data() + c;
    for (int64_t i = 0; i < hw; ++i) d[i] = s[i * 3] * scale + shift;
  }
}

void label_into(const LabelMap& label, int64_t* out) {
  for (int64_t i = 0; i < label.height * label.width; ++i) out[i] = label.ids[i];
}

Tensor image_tensor(const Image& image, const Normalization& norm) {
  Tensor t = Tensor::empty({1, 3, image.height, image.width}, DType::F32);
  normalize_into(image, norm, t.data<float>());
  return t;
}

Tensor label_tensor(const LabelMap& label) {
  Tensor t = Tensor::empty({1, label.height, label.width}, DType::I64);
  label_into(label, t.data<int64_t>());
  return t;
}

}  // namespace pmsdsen::data
