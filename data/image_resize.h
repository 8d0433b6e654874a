#pragma once
// Image and label resizing on the CPU for augmentation (not the differentiable bilinear op,
// core/cpu/resize.*). Both use pixel-centre coordinates (output pixel i
// samples the source at (i + 0.5) * in / out), so an image and its label resized to the
// same size stay aligned.
#include <cstdint>

#include "data/image.h"

namespace pmsdsen::data {

// A rectangle of the resized image: rows [y, y + height), columns [x, x + width).
struct Window {
  int64_t y = 0, x = 0, height = 0, width = 0;
};

// Bilinear (triangle filter) resize of an RGB image to out_h x out_w, computing only
// `window` of the result. As PIL's BILINEAR, the filter widens when shrinking, so a
// downscale averages every source pixel instead of aliasing; resizing to the same size
// returns the image unchanged.
Image resize_bilinear(const Image& src, int64_t out_h, int64_t out_w, const Window& window);
Image resize_bilinear(const Image& src, int64_t out_h, int64_t out_w);

// Nearest-neighbour resize of a label map (ids are never blended).
LabelMap resize_nearest(const LabelMap& src, int64_t out_h, int64_t out_w, const Window& window);
LabelMap resize_nearest(const LabelMap& src, int64_t out_h, int64_t out_w);

}  // namespace pmsdsen::data
