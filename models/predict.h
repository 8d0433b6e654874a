#pragma once
// Class predictions for images of any size: the network needs multiples of 8, so the
// (normalised) image is padded at the bottom and right with zeros (the mean colour after
// normalisation) and the prediction is cropped back. With a scale other than 1 the image
// is first resized by that factor and the logits resized back to the full size, both
// bilinearly with align_corners=True, as the authors evaluate.
#include "models/pmsdsen.h"

namespace pmsdsen {

// x [N, C, H, W] on the CPU, padded with zeros at the bottom and right to multiples of
// `multiple` (returned as is when already there).
Tensor pad_to_multiple(const Tensor& x, int64_t multiple);
// The top-left [N, C, h, w] of x [N, C, H, W] (CPU).
Tensor crop_top_left(const Tensor& x, int64_t h, int64_t w);

// image: [1, 3, H, W] float32 on the CPU, normalised. Runs the model without gradients
// in its current mode (call eval() first) on its device. Returns int64 [1, H, W] on the CPU.
Tensor predict_classes(PMSDSEN& model, const Tensor& image, double scale = 1.0);

}  // namespace pmsdsen
