#pragma once
// Seconds on the monotonic clock, for elapsed times and rates.
#include <chrono>

namespace pmsdsen {

inline double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace pmsdsen
