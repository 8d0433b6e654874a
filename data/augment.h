#pragma once
// Training augmentation as the authors' Data/transforms.py (ColorJitter, RandomScale2,
// RandomCrop2, RandomHorizontalFlip, totensor), and the normalisation every sample gets.
// The random draws are separated from their application so that a test can apply
// chosen parameters, and so that one Generator per sample makes a run reproducible.
#include <array>
#include <cstdint>
#include <string>

#include "core/rng.h"
#include "core/tensor.h"
#include "data/image.h"

namespace pmsdsen::data {

struct AugmentConfig {
  int64_t crop_height = 512, crop_width = 1024;
  // Scale factor drawn log-uniformly from [scale_min, scale_max] (RandomScale2),
  // applied to the full image: bilinear for the image, nearest for the label.
  double scale_min = 1.0, scale_max = 1.0;
  bool flip = true;           // horizontal, probability 0.5
  bool color_jitter = false;  // brightness, contrast, saturation (the authors: Cityscapes only)
  double jitter = 0.5;        // each factor drawn from [1 - jitter, 1 + jitter]
};

// The authors' settings for a dataset and crop: colour jitter for Cityscapes, none for
// CamVid; scale range 0.25-0.5 for Cityscapes crops of 512x256 or smaller (the first
// training stage), 0.35-1.0 otherwise (1024x512 Cityscapes, CamVid). The synthetic
// scenes, rendered at about the training size, get jitter and 0.75-1.5.
AugmentConfig authors_augmentation(const std::string& dataset, int64_t crop_width,
                                   int64_t crop_height);

// One sample's draws. The crop is taken from the scaled image padded (image with 0,
// label with 255) by pad_y / pad_x on each side when it is smaller than the crop.
struct AugmentParams {
  double brightness = 1.0, contrast = 1.0, saturation = 1.0;
  double scale = 1.0;
  int64_t scaled_height = 0, scaled_width = 0;
  int64_t pad_y = 0, pad_x = 0;
  int64_t crop_y = 0, crop_x = 0;  // in the padded image
  int64_t crop_height = 0, crop_width = 0;
  bool flip = false;
};

// Draws in the authors' order: jitter factors, scale, crop position, flip.
AugmentParams draw_augment(int64_t height, int64_t width, const AugmentConfig& config,
                           Generator& gen);

// The crop_height x crop_width training sample. Colour jitter (PIL's ImageEnhance
// formulas) is applied to the image pixels after resizing, not to the padding: the same
// per-pixel arithmetic as jittering first, at a fraction of the cost.
void apply_augment(const Image& image, const LabelMap& label, const AugmentParams& params,
                   Image& out_image, LabelMap& out_label);

// PIL's Brightness, Contrast and Color enhancers in that order; the contrast pivot
// `grey_mean` is the mean grey level of the whole (brightness-adjusted) image.
void color_jitter(Image& image, double brightness, double contrast, double saturation,
                  double grey_mean);
// Mean ITU-R 601 grey level of the image after multiplying by `brightness` (clamped).
double grey_mean(const Image& image, double brightness);

// RGB / 255, then (x - mean) / std per channel.
struct Normalization {
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};
  std::array<float, 3> std = {0.229f, 0.224f, 0.225f};
};

// Writes the image as [3, H, W] floats at `chw`.
void normalize_into(const Image& image, const Normalization& norm, float* chw);
// Writes the label as int64 [H, W] at `out`.
void label_into(const LabelMap& label, int64_t* out);
// Evaluation samples: [1, 3, H, W] float32 and [1, H, W] int64 on the CPU.
Tensor image_tensor(const Image& image, const Normalization& norm = {});
Tensor label_tensor(const LabelMap& label);

}  // namespace pmsdsen::data
