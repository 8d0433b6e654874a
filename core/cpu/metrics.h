#pragma once
// CPU kernel of the confusion matrix (the CUDA one is cuda/metrics.h).
#include <cstdint>

namespace pmsdsen::cpu {

// counts[l * classes + p] = pixels with label l predicted p, over the n pixels whose label
// is not ignore_label; counts[classes * classes] = those among them whose label or
// prediction is outside [0, classes). counts holds classes * classes + 1 values, overwritten.
void confusion_counts(const int64_t* labels, const int64_t* predictions, int64_t n, int64_t classes,
                      int64_t ignore_label, int64_t* counts);

}  // namespace pmsdsen::cpu
