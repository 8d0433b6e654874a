#include "data/metrics.h"

#include <cmath>
#include <limits>

#include "core/error.h"

#include "autograd/backend.h"

namespace pmsdsen::data {

ConfusionMatrix::ConfusionMatrix(int64_t classes, int64_t ignore_label)
    : classes_(classes), ignore_label_(ignore_label) {
  PMSDSEN_CHECK(classes > 0 && classes <= 1024, "confusion matrix: ", classes, " classes");
  PMSDSEN_CHECK(ignore_label < 0 || ignore_label >= classes, "confusion matrix: ignore label ",
                ignore_label, " is one of the ", classes, " classes");
  counts_.assign(classes * classes, 0);
}

void ConfusionMatrix::add(const int64_t* labels, const int64_t* predictions, int64_t n) {
  const uint64_t k = static_cast<uint64_t>(classes_);
  // Check everything first, so that a bad pair leaves the matrix as it was. One
  // unsigned compare per value also rejects negatives.
  for (int64_t i = 0; i < n; ++i) {
    const int64_t l = labels[i], p = predictions[i];
    if (l != ignore_label_ && (static_cast<uint64_t>(l) >= k || static_cast<uint64_t>(p) >= k))
      PMSDSEN_FAIL("confusion matrix: pixel ", i, " has label ", l, " and prediction ", p,
                   "; both must be in [0, ", classes_, ") (label ", ignore_label_, " is ignored)");
  }
  for (int64_t i = 0; i < n; ++i)
    if (labels[i] != ignore_label_) ++counts_[labels[i] * classes_ + predictions[i]];
}

void ConfusionMatrix::add(const Tensor& labels, const Tensor& predictions) {
  PMSDSEN_CHECK(labels.dtype() == DType::I64 && predictions.dtype() == DType::I64,
                "confusion matrix: labels ", labels.str(), " and predictions ", predictions.str(),
                " must be int64");
  PMSDSEN_CHECK(labels.shape() == predictions.shape(), "confusion matrix: labels ",
                labels.str(), " and predictions ", predictions.str(), " differ in shape");
  // On the device both are on, else on the CPU.
  const bool same = labels.device() == predictions.device();
  const Tensor l = same ? labels : labels.cpu(), p = same ? predictions : predictions.cpu();
  std::vector<int64_t> counts(counts_.size() + 1, 0);
  autograd::on_device(l, "confusion matrix", [&](auto d) {
    decltype(d)::confusion_counts(l.data<int64_t>(), p.data<int64_t>(), l.numel(), classes_, ignore_label_,
                                  counts.data());
  });
  PMSDSEN_CHECK(counts.back() == 0, "confusion matrix: ", counts.back(),
                " pixels have a label or prediction outside [0, ", classes_, ") that is not the ignore label ",
                ignore_label_);
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += counts[i];
}

void ConfusionMatrix::set_counts(std::vector<int64_t> counts) {
  PMSDSEN_CHECK(counts.size() == counts_.size(), "confusion matrix: ", counts.size(), " counts for ", classes_,
                " classes (expected ", counts_.size(), ")");
  counts_ = std::move(counts);
}

void ConfusionMatrix::merge(const ConfusionMatrix& other) {
  PMSDSEN_CHECK(other.classes_ == classes_, "confusion matrix: merging ", other.classes_,
                " classes into ", classes_);
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
}

void ConfusionMatrix::reset() { counts_.assign(counts_.size(), 0); }

int64_t ConfusionMatrix::total() const {
  int64_t t = 0;
  for (int64_t c : counts_) t += c;
  return t;
}

std::vector<double> ConfusionMatrix::iou() const {
  std::vector<double> out(classes_);
  for (int64_t c = 0; c < classes_; ++c) {
    int64_t row = 0, col = 0;
    for (int64_t j = 0; j < classes_; ++j) {
      row += count(c, j);
      col += count(j, c);
    }
    const int64_t tp = count(c, c), uni = row + col - tp;
    out[c] = uni > 0 ? static_cast<double>(tp) / static_cast<double>(uni)
                     : std::numeric_limits<double>::quiet_NaN();
  }
  return out;
}

double ConfusionMatrix::miou() const {
  double sum = 0.0;
  int64_t n = 0;
  for (double v : iou())
    if (!std::isnan(v)) {
      sum += v;
      ++n;
    }
  return n > 0 ? sum / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN();
}

double ConfusionMatrix::pixel_accuracy() const {
  int64_t trace = 0;
  for (int64_t c = 0; c < classes_; ++c) trace += count(c, c);
  const int64_t t = total();
  return t > 0 ? static_cast<double>(trace) / static_cast<double>(t)
               : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace pmsdsen::data
