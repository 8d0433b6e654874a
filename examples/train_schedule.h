#pragma once
// The learning-rate schedule of the authors' LR_Scheduler ("poly" mode): an optional
// linear warm-up from 0, then lr = base * (1 - t / (total - warmup))^power with
// t = iteration - warmup.
#include <cstdint>

namespace pmsdsen::train {

struct PolySchedule {
  double base_lr = 0.045;
  int64_t total_iters = 1;
  double power = 0.9;
  int64_t warmup_iters = 0;

  // The rate used by iteration `iteration` (0-based: the first update is iteration 0).
  double lr(int64_t iteration) const;
};

}  // namespace pmsdsen::train
