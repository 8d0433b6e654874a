#include "data/palette.h"

#include <cmath>

#include "core/error.h"

namespace pmsdsen::data {

const std::vector<std::string>& cityscapes_class_names() {
  static const std::vector<std::string> names = {
      "road",  "sidewalk", "building", "wall",  "fence",      "pole",          "traffic light",
      "traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car",
      "truck", "bus",      "train",    "motorcycle", "bicycle"};
  return names;
}

const std::vector<Rgb>& cityscapes_palette() {
  static const std::vector<Rgb> colours = {
      {128, 64, 128}, {244, 35, 232}, {70, 70, 70},    {102, 102, 156}, {190, 153, 153},
      {153, 153, 153}, {250, 170, 30}, {220, 220, 0},  {107, 142, 35},  {152, 251, 152},
      {0, 130, 180},  {220, 20, 60},  {255, 0, 0},     {0, 0, 142},     {0, 0, 70},
      {0, 60, 100},   {0, 80, 100},   {0, 0, 230},     {119, 11, 32}};
  return colours;
}

const std::vector<std::string>& camvid_class_names() {
  static const std::vector<std::string> names = {
      "sky", "building", "pole", "road", "sidewalk", "tree", "sign symbol", "fence", "car",
      "pedestrian", "bicyclist"};
  return names;
}

const std::vector<Rgb>& camvid_palette() {
  static const std::vector<Rgb> colours = {
      {128, 128, 128}, {128, 0, 0},   {192, 192, 128}, {128, 64, 128}, {60, 40, 222},
      {128, 128, 0},   {192, 128, 128}, {64, 64, 128}, {64, 0, 128},   {64, 64, 0},
      {0, 128, 192}};
  return colours;
}

Image colorize(const LabelMap& label, const std::vector<Rgb>& palette) {
  Image out(label.height, label.width, 0);
  for (int64_t i = 0; i < label.height * label.width; ++i) {
    const uint8_t id = label.ids[i];
    if (id < palette.size())
      for (int c = 0; c < 3; ++c) out.pixels[i * 3 + c] = palette[id][c];
  }
  return out;
}

LabelMap label_map_from_tensor(const Tensor& prediction) {
  const bool batched = prediction.dim() == 3;
  PMSDSEN_CHECK(prediction.dim() == 2 || (batched && prediction.size(0) == 1),
                "label_map_from_tensor: expected [H, W] or [1, H, W], got ", prediction.str());
  const Tensor p = prediction.cpu().to(DType::I64);
  LabelMap out(p.size(-2), p.size(-1));
  const int64_t* v = p.data<int64_t>();
  for (int64_t i = 0; i < p.numel(); ++i)
    out.ids[i] = (v[i] >= 0 && v[i] < kIgnoreLabel) ? static_cast<uint8_t>(v[i]) : kIgnoreLabel;
  return out;
}

Image overlay(const Image& image, const LabelMap& label, const std::vector<Rgb>& palette,
              double alpha) {
  PMSDSEN_CHECK(image.height == label.height && image.width == label.width,
                "overlay: image is ", image.width, "x", image.height, " but the label is ",
                label.width, "x", label.height);
  PMSDSEN_CHECK(alpha >= 0.0 && alpha <= 1.0, "overlay: alpha ", alpha, " is not in [0, 1]");
  Image out = image;
  for (int64_t i = 0; i < label.height * label.width; ++i) {
    const uint8_t id = label.ids[i];
    if (id >= palette.size()) continue;
    for (int c = 0; c < 3; ++c) {
      const double v = (1.0 - alpha) * image.pixels[i * 3 + c] + alpha * palette[id][c];
      out.pixels[i * 3 + c] = static_cast<uint8_t>(std::lround(v));
    }
  }
  return out;
}

}  // namespace pmsdsen::data
