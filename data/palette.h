#pragma once
// Class names and colours of the label spaces, and the pictures made from predictions:
// a colourised label map and the prediction blended over the input image.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/image.h"

namespace pmsdsen::data {

using Rgb = std::array<uint8_t, 3>;

// The 19 Cityscapes train ids (road .. bicycle) and the 11 SegNet CamVid classes
// (sky .. bicyclist); colours as the authors' Demo/decode_segmap.py.
const std::vector<std::string>& cityscapes_class_names();
const std::vector<Rgb>& cityscapes_palette();
const std::vector<std::string>& camvid_class_names();
const std::vector<Rgb>& camvid_palette();

// Train id -> palette colour; ignored pixels (and ids beyond the palette) become black.
Image colorize(const LabelMap& label, const std::vector<Rgb>& palette);
// A prediction as produced by the evaluator: int64 [H, W] or [1, H, W], any device.
LabelMap label_map_from_tensor(const Tensor& prediction);
// (1 - alpha) * image + alpha * colour, pixel by pixel; ignored pixels keep the image.
Image overlay(const Image& image, const LabelMap& label, const std::vector<Rgb>& palette,
              double alpha = 0.5);

}  // namespace pmsdsen::data
