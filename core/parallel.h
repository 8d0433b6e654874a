#pragma once
// CPU parallel loops over OpenMP. Kernels split their outermost independent loop
// (batch x channel planes, rows, ...) with parallel_for.
#include <cstdint>

#include <omp.h>

namespace pmsdsen {

inline int num_threads() { return omp_get_max_threads(); }
inline void set_num_threads(int n) { omp_set_num_threads(n > 0 ? n : 1); }

// f(i) for i in [begin, end), split statically across threads. Serial below `grain`
// iterations, where threading costs more than it saves.
template <class F>
void parallel_for(int64_t begin, int64_t end, F&& f, int64_t grain = 1) {
  if (end - begin <= grain || omp_in_parallel()) {
    for (int64_t i = begin; i < end; ++i) f(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = begin; i < end; ++i) f(i);
}

}  // namespace pmsdsen
