#pragma once
// The one place ops choose a backend: CPU kernels (float32 or float64, as templates in
// core/cpu) or CUDA kernels (float32, in cuda/). Used by every op in autograd/.
#include "core/tensor.h"

#ifdef PMSDSEN_WITH_CUDA
#define PMSDSEN_IF_CUDA(...) __VA_ARGS__
#else
#define PMSDSEN_IF_CUDA(...) PMSDSEN_FAIL("this build has no CUDA backend")
#endif

namespace pmsdsen::autograd {

// cpu_fn(TypeTag<T>) on the CPU, cuda_fn() on CUDA (float32 only there).
template <class CpuFn, class CudaFn>
void dispatch(const Tensor& t, const char* op, CpuFn&& cpu_fn, CudaFn&& cuda_fn) {
  if (t.is_cuda()) {
    PMSDSEN_CHECK(t.dtype() == DType::F32, op, ": the CUDA backend computes in float32, got a ",
                  t.str());
    cuda_fn();
  } else {
    dispatch_floating(t.dtype(), op, cpu_fn);
  }
}

}  // namespace pmsdsen::autograd
