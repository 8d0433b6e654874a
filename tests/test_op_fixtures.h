#pragma once
// Golden values from PyTorch for single ops: tests/fixtures/ops.safetensors (float64),
// written by tools/make_fixtures.py. Each case "name" has tensors "name.<tensor>" and its
// parameters as JSON in the metadata entry "case.name".
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/safetensors.h"
#include "tests/test_util.h"

namespace pmsdsen::test {

inline const Safetensors& ops_fixtures() {
  static const Safetensors st = load_safetensors(std::string(PMSDSEN_FIXTURES_DIR) + "/ops.safetensors");
  return st;
}

inline nlohmann::json fixture_params(const std::string& name) {
  return nlohmann::json::parse(ops_fixtures().metadata.at("case." + name));
}

// The names of the cases whose "op" is `op` (an op of autograd/op_table.def, or a module),
// in name order. Tests loop over these, so a case added by the generator is checked too.
inline std::vector<std::string> fixture_cases(const std::string& op) {
  std::vector<std::string> names;
  for (const std::string name : nlohmann::json::parse(ops_fixtures().metadata.at("cases")))
    if (fixture_params(name).at("op") == op) names.push_back(name);
  if (names.empty()) throw Error("tests/fixtures/ops.safetensors has no case of op " + op);
  return names;
}

// A fresh copy (ops may update tensors in place), requiring grad if asked.
inline Tensor fixture(const std::string& name, const std::string& tensor, bool requires_grad = false) {
  const auto it = ops_fixtures().tensors.find(name + "." + tensor);
  if (it == ops_fixtures().tensors.end()) throw Error("fixture tensor " + name + "." + tensor + " missing");
  Tensor t = it->second.clone();
  if (requires_grad) t.set_requires_grad(true);
  return t;
}

inline void expect_matches_fixture(const Tensor& got, const std::string& name, const std::string& tensor) {
  const Tensor want = fixture(name, tensor);
  ASSERT_EQ(got.numel(), want.numel()) << name << "." << tensor;
  EXPECT_LT(max_rel_diff(got, want), 1e-10) << name << "." << tensor;
}

}  // namespace pmsdsen::test
