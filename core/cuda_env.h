#pragma once
// CUDA runtime plumbing shared by core/ and cuda/: the one stream every kernel and
// copy is queued on, and the checked-call macro. Include only when PMSDSEN_WITH_CUDA.
#include <cuda_runtime_api.h>

#include "core/error.h"

#define PMSDSEN_CUDA_CHECK(expr)                                                     \
  do {                                                                               \
    cudaError_t pmsdsen_err_ = (expr);                                               \
    if (pmsdsen_err_ != cudaSuccess)                                                 \
      ::pmsdsen::throw_error(__FILE__, __LINE__,                                     \
                             ::pmsdsen::str("CUDA error in ", #expr, ": ",          \
                                            cudaGetErrorName(pmsdsen_err_), " (",   \
                                            cudaGetErrorString(pmsdsen_err_), ")")); \
  } while (0)

// After a kernel launch: reports launch-configuration errors at the launch site.
#define PMSDSEN_CUDA_CHECK_LAUNCH() PMSDSEN_CUDA_CHECK(cudaGetLastError())

namespace pmsdsen::cuda_env {

// The library's stream (created on first use). All work is ordered on it, so the
// caching allocator can hand a freed block to the next allocation without events.
cudaStream_t stream();

}  // namespace pmsdsen::cuda_env
