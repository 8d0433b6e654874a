// Modules against PyTorch (tests/fixtures/ops.safetensors, cases of kind "module"): the
// ECA unit with its own parameter, and the RGB injection of the Down blocks.
#include <gtest/gtest.h>

#include "autograd/engine.h"
#include "core/rng.h"
#include "layers/eca.h"
#include "models/sampling.h"
#include "tests/test_op_fixtures.h"

namespace pmsdsen {
namespace {

TEST(ModuleFixtures, EcaMatchesPyTorch) {
  for (const std::string& name : test::fixture_cases("eca")) {
    SCOPED_TRACE(name);
    Tensor x = test::fixture(name, "x", true);
    Generator gen(1);
    ECA eca(x.size(1), gen);
    eca.to(DType::F64);
    ASSERT_EQ(eca_kernel_size(x.size(1)), test::fixture_params(name).at("kernel").get<int64_t>());
    eca.load_state_dict({{"conv.weight", test::fixture(name, "w")}});
    Tensor y = eca(x);
    backward(y, test::fixture(name, "gy"));
    test::expect_matches_fixture(y, name, "y");
    test::expect_matches_fixture(x.grad(), name, "gx");
    test::expect_matches_fixture(eca.named_parameters().at(0).second.grad(), name, "gw");
  }
}

TEST(ModuleFixtures, InputInjectionMatchesPyTorch) {
  for (const std::string& name : test::fixture_cases("input_injection")) {
    SCOPED_TRACE(name);
    Tensor x = test::fixture(name, "x", true);
    Tensor y = inject_image(x, test::fixture_params(name).at("target_height").get<int64_t>());
    backward(y, test::fixture(name, "gy"));
    test::expect_matches_fixture(y, name, "y");
    test::expect_matches_fixture(x.grad(), name, "gx");
  }
}

}  // namespace
}  // namespace pmsdsen
