#pragma once
// The emulated device's one work queue. Work runs when it is queued, in order, on the
// calling thread (kernels fan their blocks out to the worker threads), so streams are
// ordered trivially and synchronisation has nothing to wait for. While a stream
// captures, capturable work is recorded for cudaGraphLaunch instead, and what a GPU
// refuses during capture (copies to or from the host, waiting, allocating) invalidates
// the capture.
#include <functional>

#include "cuda_runtime_api.h"

namespace pmsdsen::emu {

using Work = std::function<cudaError_t()>;

// Runs `work` now, or records it when `stream` is capturing. `what` names it in errors.
cudaError_t submit(cudaStream_t stream, const char* what, Work work);

// For calls a GPU refuses during capture (synchronous copies, synchronisation,
// allocation): cudaErrorStreamCaptureUnsupported, invalidating the capture, when one is
// under way; cudaSuccess otherwise.
cudaError_t refuse_while_capturing(const char* what);

}  // namespace pmsdsen::emu
