#include "examples/train_schedule.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace pmsdsen::train {

double PolySchedule::lr(int64_t iteration) const {
  PMSDSEN_CHECK(total_iters > 0 && warmup_iters >= 0 && warmup_iters < total_iters,
                "lr schedule: warm-up of ", warmup_iters, " iterations in a run of ", total_iters);
  PMSDSEN_CHECK(iteration >= 0, "lr schedule: negative iteration ", iteration);
  if (iteration < warmup_iters) return base_lr * static_cast<double>(iteration) / warmup_iters;
  const double t = static_cast<double>(iteration - warmup_iters) / static_cast<double>(total_iters - warmup_iters);
  return base_lr * std::pow(std::max(0.0, 1.0 - t), power);
}

}  // namespace pmsdsen::train
