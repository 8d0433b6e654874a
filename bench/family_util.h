#pragma once
// Small helpers shared by the kernel families (bench/kernels_*.cpp).
#include <string>

#include "bench/kernel_registry.h"
#include "core/error.h"

// Runs the CUDA launcher call in CUDA builds; elsewhere a CUDA tensor cannot exist, so
// reaching this is an error.
#ifdef PMSDSEN_WITH_CUDA
#define PMSDSEN_BENCH_CUDA(...) __VA_ARGS__
#else
#define PMSDSEN_BENCH_CUDA(...) PMSDSEN_FAIL("bench: this build has no CUDA backend")
#endif

namespace pmsdsen::bench {

// "[1,32,256,512]"
inline std::string dims(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

inline float* f32(const Tensor& t) { return t.data<float>(); }

// A new bench with the descriptive fields filled in.
inline KernelBench bench_named(std::string name, std::string op, std::string pass, std::string where,
                               Shape shape, std::string detail) {
  KernelBench b;
  b.name = std::move(name);
  b.op = std::move(op);
  b.pass = std::move(pass);
  b.where = std::move(where);
  b.shape = std::move(shape);
  b.detail = std::move(detail);
  return b;
}

}  // namespace pmsdsen::bench
