#include "data/baseline.h"

#include <algorithm>
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

ConfusionMatrix colour_histogram_confusion(const Dataset& train, const Dataset& val) {
  const int64_t k = train.num_classes();
  PMSDSEN_CHECK(k == val.num_classes(), "colour baseline: ", train.name(), " has ", k,
                " classes, ", val.name(), " has ", val.num_classes());
  auto bin = [](const uint8_t* px) { return (px[0] >> 3) << 10 | (px[1] >> 3) << 5 | (px[2] >> 3); };
  constexpr int64_t kBins = 1 << 15;
  std::vector<int64_t> counts(kBins * k, 0), totals(k, 0);
  for (int64_t i = 0; i < train.size(); ++i) {
    const Sample s = train.sample(i);
    for (int64_t p = 0; p < s.label.height * s.label.width; ++p) {
      const uint8_t c = s.label.ids[p];
      if (c >= k) continue;
      ++counts[bin(s.image.pixels.data() + p * 3) * k + c];
      ++totals[c];
    }
  }
  const int64_t fallback = std::max_element(totals.begin(), totals.end()) - totals.begin();
  std::vector<int64_t> best(kBins, fallback);
  for (int64_t b = 0; b < kBins; ++b) {
    const int64_t* row = counts.data() + b * k;
    const int64_t arg = std::max_element(row, row + k) - row;
    if (row[arg] > 0) best[b] = arg;
  }
  ConfusionMatrix cm(k);
  for (int64_t i = 0; i < val.size(); ++i) {
    const Sample s = val.sample(i);
    const int64_t n = s.label.height * s.label.width;
    std::vector<int64_t> labels(s.label.ids.begin(), s.label.ids.end()), preds(n);
    for (int64_t p = 0; p < n; ++p) preds[p] = best[bin(s.image.pixels.data() + p * 3)];
    cm.add(labels.data(), preds.data(), n);
  }
  return cm;
}

double colour_baseline_miou(const Dataset& train, const Dataset& val) {
  return colour_baseline_confusion(fit_colour_baseline(train), val).miou();
}

}  // namespace pmsdsen::data
