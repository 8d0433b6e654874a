// Weights files: round trip, metadata and inference of the configuration, and errors
// that name the file and every problem tensor.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "models/weights.h"
#include "tests/test_model_util.h"
#include "tests/test_util.h"

using namespace pmsdsen;

namespace {

std::string temp_path(const std::string& name) {
  return std::string(::testing::TempDir()) + "pmsdsen_weights_" + name;
}

void expect_contains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' not in:\n" << text;
}

}  // namespace

TEST(ModelWeights, SaveLoadRoundTripWithMetadata) {
  Generator g1(11), g2(12);
  PMSDSEN a({7, Activation::PReLU}, g1), b({7, Activation::PReLU}, g2);
  const std::string path = temp_path("roundtrip.safetensors");
  save_weights(a, path);
  const Safetensors file = load_safetensors(path);
  EXPECT_EQ(file.metadata.at("classes"), "7");
  EXPECT_EQ(file.metadata.at("act"), "prelu");
  EXPECT_EQ(file.metadata.at("format"), "pmsdsen");
  EXPECT_EQ(file.tensors.size(), a.state_dict().size());
  load_weights(b, path);
  const auto sa = a.state_dict(), sb = b.state_dict();
  for (const auto& [k, v] : sa) {
    if (v.dtype() == DType::F32) {
      EXPECT_EQ(v.to_vector<float>(), sb.at(k).to_vector<float>()) << k;
    }
  }
  auto c = load_pmsdsen(path);
  EXPECT_EQ(c->config().classes, 7);
  EXPECT_EQ(c->config().act, Activation::PReLU);
  std::remove(path.c_str());
}

TEST(ModelWeights, ConfigurationIsInferredWithoutMetadata) {
  PMSDSEN prelu({5, Activation::PReLU});
  const std::string path = temp_path("nometa.safetensors");
  save_safetensors(path, prelu.state_dict());
  auto m = load_pmsdsen(path);
  EXPECT_EQ(m->config().classes, 5);
  EXPECT_EQ(m->config().act, Activation::PReLU);
  PMSDSEN gelu({3, Activation::GELU});
  save_safetensors(path, gelu.state_dict());
  m = load_pmsdsen(path);
  EXPECT_EQ(m->config().classes, 3);
  EXPECT_EQ(m->config().act, Activation::GELU);
  std::remove(path.c_str());
}

TEST(ModelWeights, ClassAndActivationMismatchesNameTheFile) {
  PMSDSEN net({19, Activation::GELU});
  const std::string path = temp_path("city.safetensors");
  save_weights(net, path);
  std::string m = test::error_of([&] { load_pmsdsen(path, 11); });
  expect_contains(m, path);
  expect_contains(m, "weights are for 19 classes, --classes says 11");
  m = test::error_of([&] { load_pmsdsen(path, std::nullopt, Activation::PReLU); });
  expect_contains(m, path);
  expect_contains(m, "weights are for gelu activations, --act says prelu");
  // A model built for another class count: the three heads' tensors are listed by name.
  PMSDSEN eleven({11, Activation::GELU});
  m = test::error_of([&] { load_weights(eleven, path); });
  expect_contains(m, path);
  expect_contains(m, "seg_head_x2.3.weight: file [19, 16, 1, 1] vs model [11, 16, 1, 1]");
  expect_contains(m, "seg_head_x8.4.running_var: file [19] vs model [11]");
  std::remove(path.c_str());
}

TEST(ModelWeights, EveryMissingUnexpectedAndMisshapedTensorIsListed) {
  PMSDSEN net;
  auto sd = net.state_dict();
  sd.erase("layer3.4.MSLRI.conv.0.LRMS.x2.0.weight");
  sd.erase("up4.bn.num_batches_tracked");
  sd["layer9.0.weight"] = Tensor::zeros({3});
  sd["module.Stem_Conv.0.weight"] = Tensor::zeros({16, 3, 3, 3});
  sd["DWFF4.fcs.1.weight"] = Tensor::zeros({64, 8, 3, 3});
  const std::string path = temp_path("broken.safetensors");
  save_safetensors(path, sd, {{"classes", "19"}, {"act", "gelu"}});
  PMSDSEN target;
  const auto before = target.state_dict().at("Stem_Conv.0.weight").to_vector<float>();
  const std::string m = test::error_of([&] { load_weights(target, path); });
  expect_contains(m, path);
  expect_contains(m, "2 missing tensors");
  expect_contains(m, "layer3.4.MSLRI.conv.0.LRMS.x2.0.weight");
  expect_contains(m, "up4.bn.num_batches_tracked");
  expect_contains(m, "2 unexpected tensors");
  expect_contains(m, "layer9.0.weight");
  expect_contains(m, "module.Stem_Conv.0.weight");
  expect_contains(m, "DWFF4.fcs.1.weight: file [64, 8, 3, 3] vs model [64, 8, 1, 1]");
  // Nothing was copied.
  EXPECT_EQ(target.state_dict().at("Stem_Conv.0.weight").to_vector<float>(), before);
  std::remove(path.c_str());
}

TEST(ModelWeights, TruncatedAndMalformedFilesAreErrorsNamingTheFile) {
  PMSDSEN net;
  const std::string path = temp_path("whole.safetensors");
  save_weights(net, path);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string cut = temp_path("cut.safetensors");
  for (size_t keep : {size_t(0), size_t(5), size_t(100), bytes.size() / 2, bytes.size() - 1}) {
    std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(keep));
    const std::string m = test::error_of([&] { load_pmsdsen(cut); });
    expect_contains(m, cut);
  }
  std::ofstream(cut, std::ios::binary) << "this is not a safetensors file at all";
  expect_contains(test::error_of([&] { load_pmsdsen(cut); }), cut);
  expect_contains(test::error_of([&] { load_pmsdsen(temp_path("does_not_exist.safetensors")); }),
                  "does_not_exist.safetensors");
  // A valid safetensors file that holds no network.
  save_safetensors(cut, {{"input", Tensor::zeros({1, 3, 8, 8})}});
  const std::string m = test::error_of([&] { load_pmsdsen(cut); });
  expect_contains(m, cut);
  expect_contains(m, "no PMSDSEN weights");
  std::remove(cut.c_str());
  std::remove(path.c_str());
}

TEST(ModelWeights, FixtureStateDictLoads) {
  const Safetensors& fx = test::model_fixture("gelu");
  Safetensors weights{test::fixture_state_dict(fx), {}};
  PMSDSEN net(weights_config(weights, "fixture"));
  load_weights(net, weights, "fixture");
  EXPECT_EQ(net.state_dict().at("layer1.0.LDI.conv.0.compress.1.running_var").to_vector<float>(),
            fx.tensors.at("layer1.0.LDI.conv.0.compress.1.running_var").to_vector<float>());
}

TEST(ModelWeights, AMismatchOfEveryBatchNormCounterIsSummarisedNotListed) {
  PMSDSEN net;
  auto sd = net.state_dict();
  int64_t counters = 0;
  for (auto& [name, t] : sd)
    if (name.size() > 20 && name.compare(name.size() - 20, 20, ".num_batches_tracked") == 0) {
      t = Tensor::zeros({1}, DType::I64);  // [1] where the model holds a scalar
      ++counters;
    }
  ASSERT_GT(counters, 100);
  const std::string path = temp_path("counters.safetensors");
  save_safetensors(path, sd, {{"classes", "19"}, {"act", "gelu"}});
  PMSDSEN target;
  const std::string m = test::error_of([&] { load_weights(target, path); });
  expect_contains(m, str(counters, " tensors with the wrong shape:\n  ", counters,
                         " x *.num_batches_tracked: file [1] vs model [] (e.g. "));
  EXPECT_LE(std::count(m.begin(), m.end(), '\n'), 4) << m;
  std::remove(path.c_str());
}
