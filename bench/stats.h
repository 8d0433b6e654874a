#pragma once
// Summary statistics of repeated timings.
#include <cstdint>
#include <limits>
#include <vector>

namespace pmsdsen::bench {

struct Stats {
  double median = 0.0;  // the figure every table reports
  double min = 0.0, max = 0.0;
  double p10 = 0.0, p90 = 0.0;  // the spread: 10th and 90th percentiles
  int64_t count = 0;
  // CPU timings only: the median process CPU time per rep (all threads together), in
  // the same unit; NaN elsewhere. Much less than median x threads means that other work
  // held the cores during the run.
  double cpu_median = std::numeric_limits<double>::quiet_NaN();
};

// Median (mean of the two middle values for an even count) and linearly interpolated
// percentiles. An empty sample gives all zeros.
Stats summarize(std::vector<double> samples);

}  // namespace pmsdsen::bench
