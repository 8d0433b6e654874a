#pragma once
// Confusion-matrix counting on the GPU (the CPU one is core/cpu/metrics.h); data/metrics.cpp
// reaches both through autograd/backend.h.
#include <cstdint>

namespace pmsdsen::cuda {

// Counts the n device int64 pairs (labels[i], predictions[i]) into host_counts, which
// has classes * classes + 1 entries (row-major [label][prediction]) that are
// overwritten; pixels labelled ignore_label are left out, and the last entry counts
// the pixels whose label or prediction is outside [0, classes) otherwise.
void confusion_counts(const int64_t* labels, const int64_t* predictions, int64_t n,
                      int64_t classes, int64_t ignore_label, int64_t* host_counts);

}  // namespace pmsdsen::cuda
