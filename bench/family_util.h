#pragma once
// Small helpers shared by the kernel families (bench/kernels_*.cpp).
#include <string>
#include <utility>

#include "autograd/backend.h"
#include "bench/kernel_registry.h"
#include "core/error.h"

namespace pmsdsen::bench {

// f(backend) with t's float32 backend (autograd/backend.h): the kernels have one
// signature on both, so a bench calls them once: on_f32(x, [&](auto b) { decltype(b)::gelu_forward(...); }).
template <class F>
decltype(auto) on_f32(const Tensor& t, F&& f) {
  return autograd::on_backend_f32(t, "bench", std::forward<F>(f));
}

// "[1,32,256,512]"
inline std::string dims(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

inline float* f32(const Tensor& t) { return t.data<float>(); }

// A new bench with the descriptive fields filled in; `op` must be in the op table.
inline KernelBench bench_named(std::string name, std::string op, std::string kernel, std::string pass,
                               std::string where, Shape shape, std::string detail) {
  KernelBench b;
  b.name = std::move(name);
  b.op = std::move(op);
  b.kernel = std::move(kernel);
  b.pass = std::move(pass);
  b.where = std::move(where);
  b.shape = std::move(shape);
  b.detail = std::move(detail);
  return b;
}

}  // namespace pmsdsen::bench
