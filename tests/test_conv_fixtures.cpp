// The convolutions against PyTorch (tests/fixtures/ops.safetensors, float64, written by
// tools/make_fixtures.py): every conv2d, conv_transpose2d and channel_conv1d case there,
// with its parameters read from the file's metadata, output and all gradients.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "autograd/engine.h"
#include "autograd/ops_conv.h"
#include "core/safetensors.h"
#include "tests/test_util.h"

using namespace pmsdsen;

namespace {

const Safetensors& fixtures() {
  static const Safetensors f = load_safetensors(std::string(PMSDSEN_FIXTURES_DIR) + "/ops.safetensors");
  return f;
}

Tensor fixture(const std::string& name) {
  auto it = fixtures().tensors.find(name);
  if (it == fixtures().tensors.end()) throw Error("fixture tensor " + name + " is missing");
  return it->second;
}

// The square-parameter value of a [h, w] pair (all fixtures use equal pairs).
int64_t square(const nlohmann::json& pair) {
  EXPECT_EQ(pair.at(0).get<int64_t>(), pair.at(1).get<int64_t>());
  return pair.at(0).get<int64_t>();
}

// Runs one case in float64 and compares its output and gradients to ~1e-10.
void check_case(const std::string& name, const nlohmann::json& meta) {
  const std::string op = meta.at("op");
  auto leaf = [&](const std::string& t) {
    Tensor v = fixture(name + "." + t).clone();
    v.set_requires_grad(true);
    return v;
  };
  Tensor x = leaf("x"), w = leaf("w");
  Tensor b = meta.value("bias", false) ? leaf("b") : Tensor();
  Tensor y;
  if (op == "conv2d") {
    ops::Conv2dOptions o;
    o.stride = square(meta.at("stride"));
    o.padding = square(meta.at("padding"));
    o.dilation = square(meta.at("dilation"));
    o.groups = meta.at("groups");
    y = ops::conv2d(x, w, b, o);
  } else if (op == "conv_transpose2d") {
    ASSERT_EQ(square(meta.at("dilation")), 1) << name;
    ASSERT_EQ(meta.at("groups").get<int64_t>(), 1) << name;
    ops::ConvTranspose2dOptions o;
    o.stride = square(meta.at("stride"));
    o.padding = square(meta.at("padding"));
    o.output_padding = square(meta.at("output_padding"));
    y = ops::conv_transpose2d(x, w, b, o);
  } else {
    ASSERT_EQ(meta.at("padding").get<int64_t>(), (meta.at("kernel").get<int64_t>() - 1) / 2) << name;
    y = ops::channel_conv1d(x, w);
  }
  backward(y, fixture(name + ".gy"));
  EXPECT_LT(test::max_rel_diff(y, fixture(name + ".y")), 1e-10) << name << " output";
  EXPECT_LT(test::max_rel_diff(x.grad(), fixture(name + ".gx")), 1e-10) << name << " gx";
  EXPECT_LT(test::max_rel_diff(w.grad(), fixture(name + ".gw")), 1e-10) << name << " gw";
  if (b.defined()) {
    EXPECT_LT(test::max_rel_diff(b.grad(), fixture(name + ".gb")), 1e-10) << name << " gb";
  }
}

}  // namespace

TEST(ConvFixtures, MatchPyTorch) {
  const nlohmann::json cases = nlohmann::json::parse(fixtures().metadata.at("cases"));
  int checked = 0;
  for (const std::string name : cases) {
    const nlohmann::json meta = nlohmann::json::parse(fixtures().metadata.at("case." + name));
    const std::string op = meta.at("op");
    if (op != "conv2d" && op != "conv_transpose2d" && op != "channel_conv1d") continue;
    SCOPED_TRACE(name);
    check_case(name, meta);
    ++checked;
  }
  // 10 conv2d (4 dense/grouped, 6 depthwise), 1 transposed, 2 ECA when written.
  EXPECT_GE(checked, 13);
}
