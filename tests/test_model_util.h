#pragma once
// Fixtures for the model tests: tests/fixtures/pmsdsen_{gelu,prelu}.safetensors (written
// by tools/make_fixtures.py, see tests/fixtures/README.md), loaded once per process.
#include <map>
#include <string>

#include "core/safetensors.h"
#include "tests/test_util.h"

namespace pmsdsen::test {

inline std::string fixture_path(const std::string& file) { return std::string(PMSDSEN_FIXTURES_DIR) + "/" + file; }

inline const Safetensors& model_fixture(const std::string& act) {
  static std::map<std::string, Safetensors> cache;
  auto it = cache.find(act);
  if (it == cache.end()) it = cache.emplace(act, load_safetensors(fixture_path("pmsdsen_" + act + ".safetensors"))).first;
  return it->second;
}

// The fixture's state dict: every tensor that is not an input, output, gradient or
// updated buffer.
inline std::map<std::string, Tensor> fixture_state_dict(const Safetensors& fx) {
  std::map<std::string, Tensor> sd;
  for (const auto& [k, v] : fx.tensors) {
    if (k == "input" || k == "target") continue;
    bool extra = false;
    for (const char* p : {"eval.", "train.", "grad.", "train_buffers."})
      extra = extra || k.rfind(p, 0) == 0;
    if (!extra) sd.emplace(k, v);
  }
  return sd;
}

}  // namespace pmsdsen::test
