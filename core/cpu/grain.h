#pragma once
// Grain for parallel_for in the NN kernels: loops whose total work is below about 32k
// element operations run serially, since waking the thread team costs more than it saves
// (and much more on a loaded machine).
#include <algorithm>
#include <cstdint>

namespace pmsdsen::cpu {

inline int64_t grain_for(int64_t work_per_iteration) {
  constexpr int64_t kMinParallelWork = int64_t(1) << 15;
  return std::max<int64_t>(1, kMinParallelWork / std::max<int64_t>(1, work_per_iteration));
}

}  // namespace pmsdsen::cpu
