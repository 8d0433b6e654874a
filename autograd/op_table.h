#pragma once
// The table of ops: every op of the library declared once, in autograd/op_table.def.
// Its name keys the op's gradient-check cases (autograd/gradcheck_cases_*.cpp), its
// benchmark entries (bench/kernels_*.cpp) and its PyTorch fixture cases
// (tools/make_fixtures.py); tests/test_op_table.cpp fails when an op lacks one of its
// parts, or a part names an op the table does not have.
#include <string>
#include <vector>

namespace pmsdsen::autograd {

enum class OpKind {
  Kernel,     // kernels of its own on both backends, and a gradient
  Composite,  // made of other ops (or a view), with a gradient
  Forward,    // kernels, no gradient
};

struct OpInfo {
  const char* name;
  const char* family;        // core/cpu/<family>.*, cuda/<family>.*
  OpKind kind;
  bool pytorch_fixture;      // golden cases in tests/fixtures/ops.safetensors
  const char* bench_passes;  // "forward,backward", ... or ""
  const char* summary;

  bool differentiable() const { return kind != OpKind::Forward; }
  bool has_kernels() const { return kind != OpKind::Composite; }
  std::vector<std::string> passes() const;  // bench_passes split at the commas
};

// In the order of the table.
const std::vector<OpInfo>& op_table();
// The entry called `name`, or null.
const OpInfo* find_op(const std::string& name);
// The op families, each once, in the order of the table.
std::vector<std::string> op_families();

}  // namespace pmsdsen::autograd
