#include "autograd/op_table.h"

#include <algorithm>
#include <sstream>

namespace pmsdsen::autograd {

namespace {
constexpr OpKind KERNEL = OpKind::Kernel, COMPOSITE = OpKind::Composite, FORWARD = OpKind::Forward;
constexpr bool PYTORCH = true, NONE = false;
}  // namespace

const std::vector<OpInfo>& op_table() {
  static const std::vector<OpInfo> table = {
#define PMSDSEN_OP(name, family, kind, fixture, bench, summary) {#name, #family, kind, fixture, bench, summary},
#include "autograd/op_table.def"
#undef PMSDSEN_OP
  };
  return table;
}

const OpInfo* find_op(const std::string& name) {
  for (const OpInfo& op : op_table())
    if (name == op.name) return &op;
  return nullptr;
}

std::vector<std::string> op_families() {
  std::vector<std::string> families;
  for (const OpInfo& op : op_table())
    if (std::find(families.begin(), families.end(), op.family) == families.end()) families.push_back(op.family);
  return families;
}

std::vector<std::string> OpInfo::passes() const {
  std::vector<std::string> out;
  std::istringstream s(bench_passes);
  for (std::string pass; std::getline(s, pass, ',');)
    if (!pass.empty()) out.push_back(pass);
  return out;
}

}  // namespace pmsdsen::autograd
