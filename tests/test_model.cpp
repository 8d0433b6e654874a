// PMSDSEN's structure: key names, shapes, counts, initialisation, input checks.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "autograd/grad_mode.h"
#include "core/allocator.h"
#include "layers/batchnorm.h"
#include "layers/conv.h"
#include "models/pmsdsen.h"
#include "models/summary.h"
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

TEST(Model, SummaryMatchesThePyTorchMacCount) {
  std::ifstream in(test::fixture_path("macs.json"));
  const nlohmann::json macs = nlohmann::json::parse(in);
  PMSDSEN net;
  const ModelSummary s = summarize(net, 48, 64);
  EXPECT_EQ(s.macs, macs["total_macs_at"]["48x64"].get<int64_t>());
  EXPECT_EQ(s.parameters, macs["parameters"]["gelu"].get<int64_t>());
  EXPECT_EQ(s.state_dict_tensors, macs["state_dict_tensors"]["gelu"].get<int64_t>());
  EXPECT_EQ(s.macs_conv1d, macs["macs_by_type"]["Conv1d"].get<int64_t>());  // independent of the size
  EXPECT_EQ(s.macs, s.macs_conv2d + s.macs_conv_transpose2d + s.macs_conv1d);
  // The same convolutions in the same order (channels do not depend on the size).
  const auto& layers = macs["layers"];
  ASSERT_EQ(s.layers.size(), layers.size());
  for (size_t i = 0; i < s.layers.size(); ++i) {
    EXPECT_EQ(s.layers[i].name, layers[i]["name"].get<std::string>()) << i;
    EXPECT_EQ(s.layers[i].type, layers[i]["type"].get<std::string>()) << i;
    EXPECT_EQ(s.layers[i].input.at(0), layers[i]["in_shape"][0].get<int64_t>()) << s.layers[i].name;
    EXPECT_EQ(s.layers[i].output.at(0), layers[i]["out_shape"][0].get<int64_t>()) << s.layers[i].name;
  }
  // Blocks: every parameter belongs to one, and their MACs add up.
  int64_t params = 0, block_macs = 0;
  for (const SummaryRow& b : s.blocks) {
    params += b.parameters;
    block_macs += b.macs;
  }
  EXPECT_EQ(params, s.parameters);
  EXPECT_EQ(block_macs, s.macs);
  ASSERT_EQ(s.blocks.size(), 23u);
  EXPECT_EQ(s.blocks.front().name, "Stem_Conv");
  EXPECT_EQ(s.blocks.front().output, (Shape{32, 24, 32}));
  EXPECT_EQ(s.blocks[12].name, "MSSE_");
  EXPECT_EQ(s.blocks[12].output, (Shape{128, 6, 8}));
  EXPECT_EQ(s.blocks.back().name, "seg_head_x8");
}

TEST(Model, InferenceReleasesIntermediatesEarly) {
  PMSDSEN net;
  net.eval();
  autograd::NoGradGuard no_grad;
  const Tensor x = Tensor::zeros({1, 3, 48, 64});
  net.forward(x);  // first call: anything lazily created
  const size_t before = memory_stats(Device::cpu()).current_bytes;
  reset_peak_memory(Device::cpu());
  Tensor logits = net.forward(x);
  const size_t peak = memory_stats(Device::cpu()).peak_bytes - before;
  const double map = 32.0 * 24 * 32 * sizeof(float);  // one 32-channel map at H/2: the widest activations
  EXPECT_LT(static_cast<double>(peak), 7.0 * map) << "peak " << peak << " bytes";
  EXPECT_EQ(memory_stats(Device::cpu()).current_bytes - before, logits.nbytes());  // only the output is left
  const PmsdsenOutput all = net.run(x);
  EXPECT_EQ(all.aux_x8.shape(), (Shape{1, 19, 48, 64}));
}

TEST(Model, FoldedBatchNormMatchesTheLayerByLayerForward) {
  // Evaluation without gradients folds every BN into its convolution; with gradients
  // enabled the layers run one by one. Frozen BN in training mode folds too.
  const Safetensors& fx = test::model_fixture("prelu");
  PMSDSEN net({19, Activation::PReLU});
  net.load_state_dict(test::fixture_state_dict(fx));
  const Tensor x = fx.tensors.at("input");
  net.eval();
  PmsdsenOutput unfolded = net.run(x);
  PmsdsenOutput folded;
  {
    autograd::NoGradGuard no_grad;
    folded = net.run(x);
  }
  EXPECT_TRUE(unfolded.logits.requires_grad());
  EXPECT_FALSE(folded.logits.requires_grad());
  EXPECT_LT(test::max_rel_diff(folded.logits, unfolded.logits), 1e-5);
  EXPECT_LT(test::max_rel_diff(folded.aux_x8, unfolded.aux_x8), 1e-5);
  net.train();
  freeze_batch_norm(net);
  autograd::NoGradGuard no_grad;
  const PmsdsenOutput frozen = net.run(x);
  EXPECT_LT(test::max_rel_diff(frozen.logits, folded.logits), 1e-6);
  for (const auto& [name, t] : net.named_buffers())
    if (name.find("running_mean") != std::string::npos) {
      EXPECT_EQ(t.to_vector<float>(), fx.tensors.at(name).to_vector<float>()) << name << " changed while frozen";
    }
}
