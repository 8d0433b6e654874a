// PMSDSEN's structure: key names, shapes, counts, initialisation, input checks.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "layers/batchnorm.h"
#include "layers/conv.h"
#include "models/pmsdsen.h"
#include "tests/test_model_util.h"

using namespace pmsdsen;

TEST(Model, ParameterAndStateDictCounts) {
  PMSDSEN gelu({19, Activation::GELU});
  EXPECT_EQ(gelu.parameter_count(), 922373);
  EXPECT_EQ(gelu.state_dict().size(), 1898u);
  PMSDSEN prelu({19, Activation::PReLU});
  EXPECT_EQ(prelu.parameter_count(), 930437);
  EXPECT_EQ(prelu.state_dict().size(), 2027u);
  // The class count only changes each head's last conv and BN: K * (cin/2 + 3) per head.
  PMSDSEN eleven({11, Activation::GELU});
  EXPECT_EQ(eleven.parameter_count(), 922373 - 8 * (16 + 32 + 64 + 3 * 3));
}

TEST(Model, OfficialKeyExamplesHaveTheirShapes) {
  PMSDSEN net;
  const auto sd = net.state_dict();
  const std::vector<std::pair<std::string, Shape>> expected = {
      {"Stem_Conv.0.weight", {16, 3, 3, 3}},
      {"layer1.0.LDI.conv.0.compress.0.weight", {16, 32, 1, 1}},
      {"layer1.0.LDI.conv.0.process.0.weight", {16, 1, 3, 3}},
      {"layer1.0.LDI.conv.1.conv.weight", {1, 1, 3}},
      {"layer1.0.MSLRI.conv.0.LRMS.x3.0.weight", {4, 1, 3, 3}},
      {"down2.conv3x3.cbr.0.weight", {32, 35, 3, 3}},
      {"up5.conv.weight", {64, 32, 3, 3}},
      {"DWFF4.fcs.1.weight", {64, 8, 1, 1}},
      {"MSSE_.x2.1.weight", {64, 128, 1, 1}},
      {"MSSE_.tail.3.conv.weight", {1, 1, 5}},
      {"seg_head_x8.3.weight", {19, 64, 1, 1}},
      {"layer3.4.MSLRI.conv.0.LRMS.x2.0.weight", {16, 1, 3, 3}},
      {"up4.bn.num_batches_tracked", {}},
  };
  for (const auto& [name, shape] : expected) {
    auto it = sd.find(name);
    ASSERT_NE(it, sd.end()) << name;
    EXPECT_EQ(it->second.shape(), shape) << name;
  }
}

TEST(Model, KeysAndShapesMatchThePyTorchStateDict) {
  for (const char* act : {"gelu", "prelu"}) {
    const Safetensors& fx = test::model_fixture(act);
    const auto reference = test::fixture_state_dict(fx);
    PMSDSEN net({19, parse_activation(act)});
    const auto ours = net.state_dict();
    std::vector<std::string> missing, unexpected;
    for (const auto& [k, v] : reference) {
      auto it = ours.find(k);
      if (it == ours.end()) missing.push_back(k);
      else EXPECT_EQ(it->second.shape(), v.shape()) << act << " " << k;
    }
    for (const auto& [k, v] : ours)
      if (!reference.count(k)) unexpected.push_back(k);
    EXPECT_TRUE(missing.empty()) << act << ": " << missing.size() << " PyTorch keys missing, first " << missing[0];
    EXPECT_TRUE(unexpected.empty()) << act << ": " << unexpected.size() << " keys PyTorch lacks, first "
                                    << unexpected[0];
    EXPECT_EQ(std::to_string(ours.size()), fx.metadata.at("state_dict_tensors")) << act;
    EXPECT_EQ(std::to_string(net.parameter_count()), fx.metadata.at("parameters")) << act;
  }
}

TEST(Model, InitialisationFollowsPyTorch) {
  PMSDSEN net({19, Activation::PReLU});
  int convs = 0, slopes = 0;
  const auto sd = net.state_dict();
  for (const auto& [name, t] : net.named_parameters()) {
    const std::string prefix = name.substr(0, name.rfind('.') + 1);
    if (t.dim() == 1 && !sd.count(prefix + "running_mean") && name.find(".bias") == std::string::npos) {
      ++slopes;  // a PReLU
      EXPECT_EQ(t.to_vector<float>(), std::vector<float>(t.numel(), 0.25f)) << name;
    }
  }
  EXPECT_EQ(slopes, 2027 - 1898);
  for (const auto& [name, t] : sd) {
    if (name.size() > 12 && name.compare(name.size() - 12, 12, "running_mean") == 0) {
      const std::string p = name.substr(0, name.size() - 12);
      EXPECT_EQ(sd.at(p + "weight").to_vector<float>(), std::vector<float>(t.numel(), 1.f)) << p;
      EXPECT_EQ(sd.at(p + "bias").to_vector<float>(), std::vector<float>(t.numel(), 0.f)) << p;
    }
    if (t.dim() >= 3) {  // conv weights: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), spread over the range
      ++convs;
      int64_t fan_in = 1;
      for (int64_t d = 1; d < t.dim(); ++d) fan_in *= t.size(d);
      const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
      double mx = 0;
      for (float x : t.to_vector<float>()) {
        EXPECT_LE(std::fabs(x), bound * (1 + 1e-6)) << name;
        mx = std::max(mx, std::fabs(static_cast<double>(x)));
      }
      if (t.numel() >= 64) {
        EXPECT_GT(mx, 0.8 * bound) << name;
      }
    }
  }
  EXPECT_GT(convs, 300);
}

TEST(Model, RejectsSizesThatAreNotMultiplesOf8) {
  PMSDSEN net;
  net.eval();
  for (auto [h, w] : std::vector<std::pair<int64_t, int64_t>>{{50, 64}, {48, 60}, {7, 8}}) {
    try {
      net.run(Tensor::zeros({1, 3, h, w}));
      FAIL() << "accepted " << h << "x" << w;
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("multiples of 8"), std::string::npos) << m;
      EXPECT_NE(m.find(std::to_string(h) + " x " + std::to_string(w)), std::string::npos) << m;
    }
  }
  EXPECT_THROW(net.run(Tensor::zeros({1, 4, 48, 64})), Error);
  EXPECT_THROW(net.run(Tensor::zeros({3, 48, 64})), Error);
  EXPECT_THROW(PMSDSEN({0, Activation::GELU}), Error);
}
