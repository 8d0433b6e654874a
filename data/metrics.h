#pragma once
// The segmentation metrics of the authors' Metrics/metrics.py: a confusion matrix
// counted over a whole split, per-class IoU = TP / (TP + FP + FN), mIoU, pixel accuracy.
//
// Convention: a class absent from both the labels and the predictions (TP + FP + FN =
// 0) has IoU NaN and is left out of the mIoU, as the authors' nanmean. A class that
// is predicted but never labelled has IoU 0 and counts.
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "data/image.h"

namespace pmsdsen::data {

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int64_t classes, int64_t ignore_label = kIgnoreLabel);

  // Counts label/prediction pairs; pixels whose label is ignore_label are left out. A
  // label or prediction outside [0, classes) otherwise is an error, and nothing of that
  // call is counted.
  void add(const int64_t* labels, const int64_t* predictions, int64_t n);
  // labels and predictions: int64 tensors of one shape ([N, H, W] or [H, W]); on the
  // GPU when both are CUDA tensors (built with CUDA), else on the CPU.
  void add(const Tensor& labels, const Tensor& predictions);
  void merge(const ConfusionMatrix& other);
  // Replaces every count (row-major [label][prediction]; classes^2 of them): the sum of
  // the ranks' matrices in a data-parallel validation.
  void set_counts(std::vector<int64_t> counts);
  void reset();

  int64_t classes() const { return classes_; }
  int64_t ignore_label() const { return ignore_label_; }
  // count(l, p): pixels labelled l and predicted p.
  int64_t count(int64_t label, int64_t prediction) const { return counts_[label * classes_ + prediction]; }
  const std::vector<int64_t>& counts() const { return counts_; }  // row-major [label][prediction]
  int64_t total() const;  // counted pixels

  std::vector<double> iou() const;  // per class, NaN where absent (see above)
  double miou() const;              // mean of the non-NaN IoUs; NaN when none
  double pixel_accuracy() const;    // trace / total; NaN when nothing was counted

 private:
  int64_t classes_, ignore_label_;
  std::vector<int64_t> counts_;
};

}  // namespace pmsdsen::data
