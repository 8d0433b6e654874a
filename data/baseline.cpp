#include "data/baseline.h"

#include <limits>

#include "core/error.h"

namespace pmsdsen::data {

ColourBaseline fit_colour_baseline(const Dataset& train) {
  const int64_t k = train.num_classes();
  std::vector<std::array<double, 3>> sums(k, {0, 0, 0});
  std::vector<int64_t> counts(k, 0);
  for (int64_t i = 0; i < train.size(); ++i) {
    const Sample s = train.sample(i);
    for (int64_t p = 0; p < s.label.height * s.label.width; ++p) {
      const uint8_t c = s.label.ids[p];
      if (c >= k) continue;
      for (int j = 0; j < 3; ++j) sums[c][j] += s.image.pixels[p * 3 + j];
      ++counts[c];
    }
  }
  ColourBaseline model;
  model.means.resize(k);
  model.seen.resize(k);
  for (int64_t c = 0; c < k; ++c) {
    model.seen[c] = counts[c] > 0;
    for (int j = 0; j < 3; ++j) model.means[c][j] = counts[c] ? sums[c][j] / counts[c] : 0.0;
  }
  return model;
}

ConfusionMatrix colour_baseline_confusion(const ColourBaseline& model, const Dataset& val) {
  const int64_t k = static_cast<int64_t>(model.means.size());
  PMSDSEN_CHECK(k == val.num_classes(), "colour baseline: fitted on ", k, " classes, ",
                val.name(), " has ", val.num_classes());
  ConfusionMatrix cm(k);
  // Nearest mean for each of the 2^24 colours would be 16 MB; a 6-bit-per-channel table
  // (quantised lookups) would change the answer, so compute per pixel.
  for (int64_t i = 0; i < val.size(); ++i) {
    const Sample s = val.sample(i);
    const int64_t n = s.label.height * s.label.width;
    std::vector<int64_t> labels(n), preds(n);
    for (int64_t p = 0; p < n; ++p) {
      const uint8_t* px = s.image.pixels.data() + p * 3;
      double best = std::numeric_limits<double>::infinity();
      int64_t arg = 0;
      for (int64_t c = 0; c < k; ++c) {
        if (!model.seen[c]) continue;
        double d = 0;
        for (int j = 0; j < 3; ++j) d += (px[j] - model.means[c][j]) * (px[j] - model.means[c][j]);
        if (d < best) {
          best = d;
          arg = c;
        }
      }
      preds[p] = arg;
      labels[p] = s.label.ids[p];
    }
    cm.add(labels.data(), preds.data(), n);
  }
  return cm;
}

double colour_baseline_miou(const Dataset& train, const Dataset& val) {
  return colour_baseline_confusion(fit_colour_baseline(train), val).miou();
}

}  // namespace pmsdsen::data
