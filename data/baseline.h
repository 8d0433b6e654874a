#pragma once
// A colour-only yardstick: each pixel gets the class whose mean colour (over the
// training split) is nearest to its own. A dataset on which this scores well could be
// solved without looking at shapes; the network must beat it by a wide margin.
#include "data/dataset.h"
#include "data/metrics.h"

namespace pmsdsen::data {

struct ColourBaseline {
  std::vector<std::array<double, 3>> means;  // per class, RGB 0..255
  std::vector<bool> seen;                    // class occurs in the training split
};

ColourBaseline fit_colour_baseline(const Dataset& train);
// The confusion matrix of the nearest-mean-colour classifier over `val`.
ConfusionMatrix colour_baseline_confusion(const ColourBaseline& model, const Dataset& val);
double colour_baseline_miou(const Dataset& train, const Dataset& val);

// A stronger colour-only yardstick: the most frequent training class of each colour,
// colours quantised to 32 levels a channel (colours never seen in training get the
// most frequent class overall). It bounds what any per-pixel colour rule achieves.
ConfusionMatrix colour_histogram_confusion(const Dataset& train, const Dataset& val);

}  // namespace pmsdsen::data
