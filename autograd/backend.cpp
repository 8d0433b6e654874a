#include "autograd/backend.h"

namespace pmsdsen::autograd {

void no_cuda_backend(const char* op) {
  PMSDSEN_FAIL(op, ": device 'cuda' requested, but this build has no CUDA backend");
}

void not_floating(const Tensor& t, const char* op) {
  PMSDSEN_FAIL(op, ": expected a float32 or float64 tensor, got ", dtype_name(t.dtype()));
}

void cuda_needs_float32(const Tensor& t, const char* op) {
  PMSDSEN_FAIL(op, ": the CUDA backend computes in float32, got a ", t.str());
}

}  // namespace pmsdsen::autograd
