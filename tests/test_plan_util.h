#pragma once
// Helpers for the inference-plan tests: a model whose batch norms and PReLU slopes look
// trained (random statistics and affine parameters, so folding is exercised), and the
// class-agreement count of two logit maps.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>

#include "core/rng.h"
#include "models/pmsdsen.h"

namespace pmsdsen::test {

inline bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// PMSDSEN in evaluation mode with random running statistics, BN affine parameters and
// PReLU slopes.
inline std::unique_ptr<PMSDSEN> trained_looking_model(Activation act, int64_t classes, uint64_t seed) {
  Generator gen(seed);
  auto model = std::make_unique<PMSDSEN>(PmsdsenConfig{classes, act}, gen);
  const std::map<std::string, Tensor> state = model->state_dict();
  for (const auto& [name, t] : state) {
    if (!is_floating(t.dtype())) continue;
    float* p = t.data<float>();
    const bool bn_weight =
        ends_with(name, ".weight") && t.dim() == 1 && state.count(name.substr(0, name.size() - 6) + "running_var");
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (ends_with(name, "running_mean")) p[i] = static_cast<float>(gen.uniform(-0.3, 0.3));
      else if (ends_with(name, "running_var")) p[i] = static_cast<float>(gen.uniform(0.5, 2.0));
      else if (bn_weight) p[i] = static_cast<float>(gen.uniform(0.5, 1.5));
      else if (ends_with(name, ".bias") && t.dim() == 1) p[i] += static_cast<float>(gen.uniform(-0.1, 0.1));
      else if (t.dim() == 1 && act == Activation::PReLU && !ends_with(name, ".bias")) p[i] = static_cast<float>(gen.uniform(0.0, 0.5));
    }
  }
  model->eval();
  return model;
}

struct ClassAgreement {
  int64_t pixels = 0, compared = 0, disagree = 0;
};

// Compares the argmax of got and ref ([N, K, H, W], CPU float) at every pixel whose top-2
// margin in ref exceeds `margin`.
inline ClassAgreement class_agreement(const Tensor& got, const Tensor& ref, double margin) {
  ClassAgreement a;
  const int64_t N = ref.size(0), K = ref.size(1), S = ref.size(2) * ref.size(3);
  const float* g = got.data<float>();
  const float* r = ref.data<float>();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t s = 0; s < S; ++s) {
      ++a.pixels;
      int64_t best = 0, gbest = 0;
      float first = -INFINITY, second = -INFINITY, gmax = -INFINITY;
      for (int64_t k = 0; k < K; ++k) {
        const float v = r[(n * K + k) * S + s], w = g[(n * K + k) * S + s];
        if (v > first) second = first, first = v, best = k;
        else if (v > second) second = v;
        if (w > gmax) gmax = w, gbest = k;
      }
      if (first - second <= margin) continue;
      ++a.compared;
      a.disagree += best != gbest;
    }
  return a;
}

}  // namespace pmsdsen::test
