#pragma once
// The calling thread's last CUDA error, and the detail that explains it.
#include <string>

#include "cuda_runtime_api.h"

namespace pmsdsen::emu {

// Records `error` as the thread's last error with what went wrong, and returns it.
cudaError_t fail(cudaError_t error, const std::string& detail);

// "<generic text>; emulated CUDA: <detail>" when `generic` is the text of the thread's
// most recent detailed error (the pointer stays valid until the next one), else generic.
const char* with_detail(int code, const char* generic, bool is_cublas);
void set_cublas_detail(int status, const std::string& detail);

}  // namespace pmsdsen::emu
