#include "models/loss.h"

#include "autograd/ops_basic.h"

namespace pmsdsen {

void check_labels(const Tensor& target, int64_t classes, int64_t ignore_index, const std::string& what) {
  const Tensor t = target.cpu().to(DType::I64);
  const int64_t* v = t.data<int64_t>();
  for (int64_t i = 0; i < t.numel(); ++i)
    PMSDSEN_CHECK((v[i] >= 0 && v[i] < classes) || v[i] == ignore_index, what, ": label ", v[i],
                  " (element ", i, ") is neither a class in [0, ", classes, ") nor the ignore label ",
                  ignore_index);
}

SegLoss segmentation_loss(const PmsdsenOutput& out, const Tensor& target, const SegLossOptions& options) {
  check_defined(target, "segmentation_loss", "target");
  const Tensor& logits = out.logits;
  PMSDSEN_CHECK(target.dim() == 3 && logits.dim() == 4 && target.size(0) == logits.size(0) &&
                    target.size(1) == logits.size(2) && target.size(2) == logits.size(3),
                "segmentation_loss: target must be [N, H, W] matching the logits ", logits.str(), ", got ",
                target.str());
  const Tensor labels = target.dtype() == DType::I64 ? target : target.to(DType::I64);
  ops::CrossEntropyOptions ce;
  ce.ignore_index = options.ignore_index;
  ce.class_weights = options.class_weights;
  ce.ohem = options.ohem;
  ce.ohem_threshold = options.ohem_threshold;
  ce.ohem_min_kept = options.ohem_min_kept >= 0 ? options.ohem_min_kept : labels.numel() / 16;
  SegLoss loss;
  const Tensor* outputs[3] = {&out.logits, &out.aux_x4, &out.aux_x8};
  for (int i = 0; i < 3; ++i) {
    PMSDSEN_CHECK(outputs[i]->defined(), "segmentation_loss: output ", kPmsdsenOutputNames[i],
                  " is missing (run the model with PMSDSEN::run)");
    loss.parts[i] = ops::cross_entropy(*outputs[i], labels, ce);
  }
  loss.total = loss.parts[0] + loss.parts[1] + loss.parts[2];
  return loss;
}

}  // namespace pmsdsen
