#include "core/cpu/metrics.h"

#include <algorithm>

namespace pmsdsen::cpu {

void confusion_counts(const int64_t* labels, const int64_t* predictions, int64_t n, int64_t classes,
                      int64_t ignore_label, int64_t* counts) {
  std::fill(counts, counts + classes * classes + 1, int64_t{0});
  const uint64_t k = static_cast<uint64_t>(classes);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t l = labels[i], p = predictions[i];
    if (l == ignore_label) continue;
    // One unsigned compare per value also catches negatives.
    const bool ok = static_cast<uint64_t>(l) < k && static_cast<uint64_t>(p) < k;
    ++counts[ok ? l * classes + p : classes * classes];
  }
}

}  // namespace pmsdsen::cpu
