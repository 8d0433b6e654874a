// The op table (autograd/op_table.def) against the parts each op must have: gradient-check
// cases for the differentiable ops, PyTorch fixture cases for the ops marked PYTORCH,
// kernel files on both backends for the ops with kernels. A new op that misses a part,
// or a part that names an op the table lacks, fails here. (Benchmarks: test_bench_registry.)
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "autograd/gradcheck_suite.h"
#include "autograd/op_table.h"
#include "tests/test_op_fixtures.h"

namespace pmsdsen::autograd {
namespace {

bool source_exists(const std::string& path) {
  return std::filesystem::exists(std::filesystem::path(PMSDSEN_SOURCE_DIR) / path);
}

TEST(OpTable, NamesAreUniqueAndFamiliesKnown) {
  std::set<std::string> names;
  for (const OpInfo& op : op_table()) {
    EXPECT_TRUE(names.insert(op.name).second) << "duplicate op " << op.name;
    EXPECT_EQ(find_op(op.name), &op);
    EXPECT_FALSE(std::string(op.summary).empty()) << op.name;
  }
  EXPECT_EQ(find_op("no_such_op"), nullptr);
  EXPECT_EQ(op_families(), (std::vector<std::string>{"basic", "conv", "norm", "activation", "pool", "resize",
                                                      "loss", "argmax", "optim"}));
  EXPECT_EQ(find_op("conv2d")->passes(), (std::vector<std::string>{"forward", "input_grad", "weight_grad"}));
  EXPECT_TRUE(find_op("add")->passes().empty());
}

TEST(OpTable, EveryDifferentiableOpHasGradientCasesAndNoCaseNamesAnUnknownOp) {
  std::map<std::string, int> cases;
  for (const GradCase& c : gradcheck_suite()) {
    ++cases[c.op];
    if (c.op == kComposedCase) continue;
    const OpInfo* op = find_op(c.op);
    ASSERT_NE(op, nullptr) << "gradient case " << c.op << " (" << c.config << "): not in autograd/op_table.def";
    EXPECT_TRUE(op->differentiable()) << c.op << " is FORWARD in the table but has a gradient case";
  }
  for (const OpInfo& op : op_table()) {
    if (!op.differentiable()) continue;
    EXPECT_GT(cases[op.name], 0) << op.name << " has no gradient-check case";
  }
  EXPECT_GT(cases[kComposedCase], 0);
}

TEST(OpTable, GradientCasesComeInTableOrder) {
  std::map<std::string, size_t> position;
  for (const OpInfo& op : op_table()) position[op.name] = position.size();
  position[kComposedCase] = position.size();
  size_t last = 0;
  for (const GradCase& c : gradcheck_suite()) {
    EXPECT_GE(position.at(c.op), last) << c.op << " (" << c.config << ") out of table order";
    last = position.at(c.op);
  }
}

TEST(OpTable, OpsMarkedPytorchHaveFixtureCasesAndFixturesNameTableOps) {
  std::map<std::string, int> cases;
  for (const std::string name : nlohmann::json::parse(test::ops_fixtures().metadata.at("cases"))) {
    const nlohmann::json p = test::fixture_params(name);
    const std::string op = p.at("op"), kind = p.at("kind");
    if (kind != "op") {
      EXPECT_TRUE(kind == "module" || kind == "schedule") << name << ": kind " << kind;
      continue;
    }
    const OpInfo* info = find_op(op);
    ASSERT_NE(info, nullptr) << "fixture case " << name << ": op " << op << " is not in autograd/op_table.def";
    EXPECT_TRUE(info->pytorch_fixture) << "fixture case " << name << ": " << op << " is marked NONE";
    ++cases[op];
  }
  for (const OpInfo& op : op_table()) {
    if (!op.pytorch_fixture) continue;
    EXPECT_GT(cases[op.name], 0) << op.name << " is marked PYTORCH but has no fixture case";
  }
}

TEST(OpTable, EveryFamilyHasItsFiles) {
  for (const OpInfo& op : op_table()) {
    const std::string family = op.family;
    if (op.has_kernels()) {
      EXPECT_TRUE(source_exists("core/cpu/" + family + ".cpp")) << op.name << ": core/cpu/" << family << ".cpp";
      EXPECT_TRUE(source_exists("cuda/" + family + ".cu")) << op.name << ": cuda/" << family << ".cu";
    }
    // The optimiser is not an op of the tape: autograd/sgd.* holds it.
    const std::string front = family == "optim" ? "autograd/sgd.cpp" : "autograd/ops_" + family + ".cpp";
    EXPECT_TRUE(source_exists(front)) << op.name << ": " << front;
    if (!op.passes().empty()) {
      EXPECT_TRUE(source_exists("bench/kernels_" + family + ".cpp")) << op.name << ": bench/kernels_" << family << ".cpp";
    }
  }
  EXPECT_FALSE(source_exists("core/cpu/no_such_family.cpp"));  // the check can fail
}

}  // namespace
}  // namespace pmsdsen::autograd
