#include <gtest/gtest.h>

#include <cmath>

#include "layers/activation.h"
#include "layers/batchnorm.h"
#include "layers/conv.h"
#include "layers/sequential.h"
#include "tests/test_util.h"

using namespace pmsdsen;

namespace {

// A two-level module: `block` = Sequential(Conv2d, BatchNorm2d, PReLU), plus `head`.
class Toy : public Module {
 public:
  explicit Toy(Generator& gen) {
    block = register_module("block", std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
                                         std::make_shared<Conv2d>(Conv2dSpec{3, 5, 3, 1, 1, 1, 1, false}, gen),
                                         std::make_shared<BatchNorm2d>(5), std::make_shared<PReLU>(5)}));
    head = register_module("head", std::make_shared<Conv2d>(Conv2dSpec{5, 2, 1}, gen));
  }
  std::shared_ptr<Sequential> block;
  std::shared_ptr<Conv2d> head;
};

std::vector<std::string> names(const std::vector<std::pair<std::string, Tensor>>& v) {
  std::vector<std::string> out;
  for (const auto& [n, t] : v) out.push_back(n);
  return out;
}

}  // namespace

TEST(Layers, NamesFollowPyTorchStateDictKeysInRegistrationOrder) {
  Generator gen(1);
  Toy toy(gen);
  EXPECT_EQ(names(toy.named_parameters()),
            (std::vector<std::string>{"block.0.weight", "block.1.weight", "block.1.bias", "block.2.weight",
                                      "head.weight", "head.bias"}));
  EXPECT_EQ(names(toy.named_buffers()),
            (std::vector<std::string>{"block.1.running_mean", "block.1.running_var",
                                      "block.1.num_batches_tracked"}));
  EXPECT_EQ(toy.parameter_count(), 5 * 3 * 9 + 5 + 5 + 5 + 2 * 5 + 2);
  EXPECT_EQ(toy.state_dict().size(), 9u);
  for (const Tensor& p : toy.parameters()) EXPECT_TRUE(p.requires_grad());
}

TEST(Layers, InitialisationFollowsPyTorch) {
  Generator gen(2);
  Conv2d conv(Conv2dSpec{16, 8, 3}, gen);
  const double bound = 1.0 / std::sqrt(16.0 * 9.0);
  auto sd = conv.state_dict();
  for (float w : sd.at("weight").to_vector<float>()) EXPECT_LE(std::fabs(w), bound);
  for (float b : sd.at("bias").to_vector<float>()) EXPECT_LE(std::fabs(b), bound);
  BatchNorm2d bn(4);
  auto b = bn.state_dict();
  EXPECT_EQ(b.at("weight").to_vector<float>(), std::vector<float>(4, 1.f));
  EXPECT_EQ(b.at("bias").to_vector<float>(), std::vector<float>(4, 0.f));
  EXPECT_EQ(b.at("running_var").to_vector<float>(), std::vector<float>(4, 1.f));
  EXPECT_EQ(b.at("num_batches_tracked").dtype(), DType::I64);
  PReLU prelu(3);
  EXPECT_EQ(prelu.state_dict().at("weight").to_vector<float>(), std::vector<float>(3, 0.25f));
}

TEST(Layers, LoadStateDictCopiesValuesAndReportsEveryProblemByName) {
  Generator gen(3);
  Toy a(gen), b(gen);
  b.load_state_dict(a.state_dict());
  EXPECT_EQ(b.state_dict().at("head.weight").to_vector<float>(),
            a.state_dict().at("head.weight").to_vector<float>());

  auto broken = a.state_dict();
  broken.erase("block.1.running_var");
  broken["block.9.weight"] = Tensor::zeros({1});
  broken["head.bias"] = Tensor::zeros({3});
  try {
    b.load_state_dict(broken);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("block.1.running_var"), std::string::npos) << m;
    EXPECT_NE(m.find("block.9.weight"), std::string::npos) << m;
    EXPECT_NE(m.find("head.bias: file [3] vs model [2]"), std::string::npos) << m;
  }
  const LoadReport r = b.load_state_dict(broken, false);
  EXPECT_EQ(r.missing, std::vector<std::string>{"block.1.running_var"});
  EXPECT_EQ(r.unexpected, std::vector<std::string>{"block.9.weight"});
  EXPECT_EQ(r.mismatched.size(), 1u);
}

TEST(Layers, LoadConvertsDtypes) {
  Generator gen(4);
  Toy a(gen);
  auto sd = a.state_dict();
  std::map<std::string, Tensor> as_double;
  for (auto& [k, v] : sd) as_double[k] = is_floating(v.dtype()) ? v.to(DType::F64) : v;
  as_double["head.bias"] = Tensor::from_vector<double>({0.5, -0.25}, {2});
  a.load_state_dict(as_double);
  EXPECT_EQ(a.state_dict().at("head.bias").to_vector<float>(), (std::vector<float>{0.5f, -0.25f}));
  EXPECT_EQ(a.state_dict().at("head.bias").dtype(), DType::F32);
}

TEST(Layers, TrainEvalFreezeAndDtypePropagate) {
  Generator gen(5);
  Toy toy(gen);
  EXPECT_TRUE(toy.block->is_training());
  toy.eval();
  EXPECT_FALSE(toy.head->is_training());
  EXPECT_FALSE((*toy.block)[1].is_training());
  freeze_batch_norm(toy);
  EXPECT_TRUE(dynamic_cast<BatchNorm2d&>((*toy.block)[1]).frozen());
  toy.to(DType::F64);
  for (const auto& [n, t] : toy.named_parameters()) {
    EXPECT_EQ(t.dtype(), DType::F64) << n;
    EXPECT_TRUE(t.requires_grad()) << n;
  }
  EXPECT_EQ(toy.state_dict().at("block.1.num_batches_tracked").dtype(), DType::I64);
}

TEST(Layers, ActivationNamesAreValidated) {
  EXPECT_EQ(parse_activation("gelu"), Activation::GELU);
  EXPECT_EQ(parse_activation("prelu"), Activation::PReLU);
  EXPECT_THROW(parse_activation("relu"), Error);
  EXPECT_THROW(Conv2d(Conv2dSpec{6, 4, 3, 1, 1, 1, 4}, *std::make_unique<Generator>(1)), Error);
}

// A module's device is where its parameters are, whatever the order of its integer
// buffers (BN's num_batches_tracked stays on the host): segment --device cuda once fed a
// CPU image to a CUDA network because of the last-visited tensor.
TEST(LayersCuda, DeviceIsWhereTheParametersAre) {
  PMSDSEN_REQUIRE_CUDA();
  Generator gen(5);
  Toy toy(gen);
  EXPECT_EQ(toy.device(), Device::cpu());
  toy.to(Device::cuda());
  EXPECT_EQ(toy.device(), Device::cuda());
  EXPECT_FALSE(toy.state_dict().at("block.1.num_batches_tracked").is_cuda());
  toy.to(Device::cpu());
  EXPECT_EQ(toy.device(), Device::cpu());
}
