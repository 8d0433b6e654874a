#pragma once
// Times one repeated piece of work: warm-up, then each repetition on its own.
// CUDA: CUDA events around each rep on the library stream (the reps are queued behind a
// spin kernel so that they run back to back); CPU: std::chrono::steady_clock.
#include <cstdint>
#include <functional>

#include "bench/stats.h"
#include "core/device.h"

namespace pmsdsen::bench {

struct TimerOptions {
  int64_t warmup_reps = 3;  // at least this many warm-up reps...
  double warmup_ms = 20.0;  // ...and at least this much warm-up time
  int64_t min_reps = 10;    // timed reps: enough to fill target_ms, within [min, max]
  int64_t max_reps = 500;
  double target_ms = 100.0;
  int64_t fixed_reps = 0;   // > 0: exactly this many timed reps (overrides the above)
};

// Defaults per device: the GPU gets many reps (each costs micro- to milliseconds), the
// CPU few. quick: a fraction of the work, for smoke runs.
TimerOptions timer_defaults(Device device, bool quick);

// How many reps fill target_ms at est_ms each, within [min_reps, max_reps].
int64_t reps_for(const TimerOptions& options, double est_ms);

// Calls fn(rep) for the warm-up and timed reps (rep counts up from 0 across both, so a
// caller rotates its input sets with rep % sets) and returns the per-rep times in ms.
// On CUDA, fn must queue its work on cuda_env::stream() and not synchronise.
Stats time_reps(Device device, const std::function<void(int64_t rep)>& fn,
                const TimerOptions& options);

}  // namespace pmsdsen::bench
