#pragma once
// The training loss of PMSDSEN: the sum of the cross-entropies of the three outputs
// (prediction, x4 and x8 heads, each at full resolution) against one label map, pixels
// labelled ignore_index (255) left out; optional class weights, optional OHEM.
#include <array>

#include "autograd/ops_loss.h"
#include "models/pmsdsen.h"

namespace pmsdsen {

struct SegLossOptions {
  int64_t ignore_index = 255;
  Tensor class_weights;         // [classes] or undefined
  bool ohem = false;            // online hard example mining (the authors' OhemCrossEntropy)
  double ohem_threshold = 0.7;
  int64_t ohem_min_kept = -1;   // -1: N * H * W / 16, as the authors
};

struct SegLoss {
  Tensor total;                  // 0-dim, differentiable
  std::array<Tensor, 3> parts;   // logits, aux_x4, aux_x8
};

// target: [N, H, W] int64 (other integer dtypes are converted), on the outputs' device.
// Labels must be in [0, classes) or equal to ignore_index; anything else is an error.
SegLoss segmentation_loss(const PmsdsenOutput& out, const Tensor& target, const SegLossOptions& options = {});

// Throws naming `what` unless every label is a class index or ignore_index.
void check_labels(const Tensor& target, int64_t classes, int64_t ignore_index, const std::string& what);

}  // namespace pmsdsen
