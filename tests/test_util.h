#pragma once
// Shared helpers for the tests.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/tensor.h"

// GPU tests skip (never fail) where no GPU is present, saying so.
#define PMSDSEN_REQUIRE_CUDA()                                                             \
  do {                                                                                     \
    if (!::pmsdsen::cuda_available())                                                      \
      GTEST_SKIP() << "CUDA test skipped: " << ::pmsdsen::cuda_device_description();       \
  } while (0)

namespace pmsdsen::test {

// A CPU tensor of uniform values in [lo, hi).
inline Tensor random_tensor(const Shape& shape, Generator& gen, DType dtype = DType::F64,
                            double lo = -1.0, double hi = 1.0) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (double& x : v) x = gen.uniform(lo, hi);
  return Tensor::from_vector(v, shape).to(dtype);
}

inline std::vector<double> values(const Tensor& t) { return t.to(DType::F64).cpu().to_vector<double>(); }

// max_i |a_i - b_i| / max(max_i |b_i|, floor): a scale-aware error for parity checks.
inline double max_rel_diff(const Tensor& a, const Tensor& b, double floor = 1e-6) {
  const std::vector<double> x = values(a), y = values(b);
  EXPECT_EQ(x.size(), y.size());
  double diff = 0.0, scale = floor;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    if (!(std::abs(x[i] - y[i]) <= diff)) diff = std::abs(x[i] - y[i]);  // NaN propagates
    scale = std::max(scale, std::abs(y[i]));
  }
  return diff / scale;
}

// 0, 1, 2, ... (from start) in double, in the given shape.
inline Tensor arange(const Shape& shape, double start = 0.0) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  std::iota(v.begin(), v.end(), start);
  return Tensor::from_vector(v, shape);
}

// The message of the pmsdsen::Error that f throws, or "no error".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// An empty folder of the system's temporary directory, unique to this process.
inline std::string temp_dir(const std::string& name) {
  const std::filesystem::path p =
      std::filesystem::temp_directory_path() / ("pmsdsen_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

}  // namespace pmsdsen::test
