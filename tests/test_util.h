#pragma once
// Shared helpers for the tests.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/device.h"
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

}  // namespace pmsdsen::test
