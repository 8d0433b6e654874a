// pmsdsen forward: its outputs equal the library's and PyTorch's; bad inputs are named.
#include <cmath>
#include <map>

#include "autograd/grad_mode.h"
#include "models/weights.h"
#include "tests/test_model_cmd_util.h"
#include "tests/test_model_util.h"

using namespace pmsdsen;

namespace {

// The fixture split into the files a user would have: weights, input, target.
struct ForwardFiles {
  std::string weights = test::temp_file("fw_weights.safetensors");
  std::string input = test::temp_file("fw_input.safetensors");
  std::string target = test::temp_file("fw_target.safetensors");
  std::string output = test::temp_file("fw_output.safetensors");
  ForwardFiles() {
    const Safetensors& fx = test::model_fixture("gelu");
    save_safetensors(weights, test::fixture_state_dict(fx));  // no metadata: inferred
    save_safetensors(input, {{"input", fx.tensors.at("input")}});
    save_safetensors(target, {{"target", fx.tensors.at("target")}});
  }
};

const ForwardFiles& files() {
  static ForwardFiles f;
  return f;
}

}  // namespace

TEST(CmdForward, EvalOutputsEqualTheLibraryAndPyTorch) {
  const ForwardFiles& f = files();
  auto r = test::run_tool("forward --device cpu --weights " + f.weights + " --input " + f.input + " --output " +
                          f.output);
  ASSERT_EQ(r.status, 0) << r.output;
  const Safetensors out = load_safetensors(f.output);
  EXPECT_EQ(out.tensors.size(), 3u);
  EXPECT_EQ(out.metadata.at("mode"), "eval");

  const Safetensors& fx = test::model_fixture("gelu");
  auto model = load_pmsdsen(f.weights);
  model->eval();
  autograd::NoGradGuard no_grad;
  const PmsdsenOutput lib = model->run(fx.tensors.at("input"));
  const Tensor* o[3] = {&lib.logits, &lib.aux_x4, &lib.aux_x8};
  for (int i = 0; i < 3; ++i) {
    const std::string n = kPmsdsenOutputNames[i];
    EXPECT_EQ(out.tensors.at(n).shape(), (Shape{2, 19, 48, 64})) << n;
    EXPECT_LE(test::max_rel_diff(out.tensors.at(n), *o[i]), 1e-6) << n;
    EXPECT_LT(test::max_rel_diff(out.tensors.at(n), fx.tensors.at("eval." + n)), 1e-4) << n;
  }
}

TEST(CmdForward, TrainingWithTargetWritesLossAndEveryGradient) {
  const ForwardFiles& f = files();
  auto r = test::run_tool("forward --device cpu --weights " + f.weights + " --input " + f.input + " --output " +
                          f.output + " --train --act gelu --classes 19 --target " + f.target);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_OUTPUT_HAS(r, "1061 gradients");
  const Safetensors out = load_safetensors(f.output);
  const Safetensors& fx = test::model_fixture("gelu");
  EXPECT_EQ(out.metadata.at("mode"), "train");
  EXPECT_LT(test::max_rel_diff(out.tensors.at("logits"), fx.tensors.at("train.logits")), 1e-4);
  EXPECT_LT(test::max_rel_diff(out.tensors.at("loss"), fx.tensors.at("train.loss")), 1e-5);
  EXPECT_LT(test::max_rel_diff(out.tensors.at("ce_aux_x8"), fx.tensors.at("train.ce_aux_x8")), 1e-5);
  int grads = 0;
  for (const auto& [k, v] : out.tensors) grads += k.rfind("grad.", 0) == 0;
  EXPECT_EQ(grads, 1061);
  for (const char* p : {"grad.Stem_Conv.0.weight", "grad.layer3.4.MSLRI.conv.0.LRMS.x2.0.weight",
                        "grad.seg_head_x2.4.bias", "grad.DWFF4.fcs.1.weight"})
    EXPECT_LT(test::max_rel_diff(out.tensors.at(p), fx.tensors.at(p)), 1e-3) << p;
}

TEST(CmdForward, BadInputsAreNamed) {
  const ForwardFiles& f = files();
  const std::string base = "forward --weights " + f.weights + " --output " + f.output;
  auto r = test::run_tool("forward --input " + f.input + " --output " + f.output);
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "--weights is required");

  r = test::run_tool(base + " --input " + f.target);  // holds 'target', not 'input'
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "'" + f.target + "' has no tensor 'input' (it holds 1 tensors: target)");

  const std::string odd = test::temp_file("fw_odd.safetensors");
  save_safetensors(odd, {{"input", Tensor::zeros({1, 3, 50, 64})}});
  r = test::run_tool(base + " --input " + odd);
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "multiples of 8, got 50 x 64");

  r = test::run_tool(base + " --input " + f.input + " --classes 11");
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "weights are for 19 classes, --classes says 11");
  r = test::run_tool(base + " --input " + f.input + " --act prelu");
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "weights are for gelu activations, --act says prelu");

  const std::string bad_target = test::temp_file("fw_bad_target.safetensors");
  Tensor t = test::model_fixture("gelu").tensors.at("target").clone();
  t.data<int64_t>()[5] = 19;
  save_safetensors(bad_target, {{"target", t}});
  r = test::run_tool(base + " --input " + f.input + " --target " + bad_target);
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "label 19 (element 5) is neither a class in [0, 19) nor the ignore label 255");

  save_safetensors(bad_target, {{"target", Tensor::zeros({2, 48, 60}, DType::I64)}});
  r = test::run_tool(base + " --input " + f.input + " --target " + bad_target);
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "'target' must be N x H x W = 2 x 48 x 64");

  r = test::run_tool(base + " --input " + test::temp_file("missing.safetensors"));
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "missing.safetensors");
  std::remove(odd.c_str());
  std::remove(bad_target.c_str());
}

TEST(CmdForward, CudaMatchesPyTorch) {
  PMSDSEN_REQUIRE_CUDA();
  const ForwardFiles& f = files();
  const Safetensors& fx = test::model_fixture("gelu");
  auto r = test::run_tool("forward --device cuda --weights " + f.weights + " --input " + f.input + " --output " +
                          f.output);
  ASSERT_EQ(r.status, 0) << r.output;
  Safetensors out = load_safetensors(f.output);
  for (const char* n : kPmsdsenOutputNames)
    EXPECT_LT(test::max_rel_diff(out.tensors.at(n), fx.tensors.at(std::string("eval.") + n)), 1e-4) << n;
  r = test::run_tool("forward --device cuda --train --weights " + f.weights + " --input " + f.input + " --output " +
                     f.output + " --target " + f.target);
  ASSERT_EQ(r.status, 0) << r.output;
  out = load_safetensors(f.output);
  EXPECT_LT(test::max_rel_diff(out.tensors.at("logits"), fx.tensors.at("train.logits")), 1e-4);
  EXPECT_LT(test::max_rel_diff(out.tensors.at("loss"), fx.tensors.at("train.loss")), 1e-4);
  EXPECT_LT(test::max_rel_diff(out.tensors.at("grad.Stem_Conv.0.weight"), fx.tensors.at("grad.Stem_Conv.0.weight")),
            1e-3);
}

// The whole network on the CUDA backend against the CPU backend through `pmsdsen forward`,
// for both activations at an odd-sized batch of two: the three outputs in evaluation
// and in training mode, the loss, and (GELU) every parameter's gradient. PReLU's
// training gradients are ill-conditioned (an activation that rounding moves across 0
// switches its slope: CPU float32 against float64 differs by 4 % on some tensors), so
// their accuracy is checked against float64 in test_model_numerics.cpp instead.
TEST(CmdForward, CudaEqualsTheCpuForEveryOutputAndGradient) {
  PMSDSEN_REQUIRE_CUDA();
  Generator gen(17);
  const std::string input = test::temp_file("fwc_input.safetensors"), target = test::temp_file("fwc_target.safetensors");
  save_safetensors(input, {{"input", test::random_tensor({2, 3, 72, 136}, gen, DType::F32)}});
  Tensor labels = Tensor::empty({2, 72, 136}, DType::I64);
  for (int64_t i = 0; i < labels.numel(); ++i)
    labels.data<int64_t>()[i] = gen.uniform(0, 1) < 0.1 ? 255 : static_cast<int64_t>(gen.uniform(0, 19));
  save_safetensors(target, {{"target", labels}});
  for (const char* act : {"gelu", "prelu"}) {
    SCOPED_TRACE(act);
    const std::string weights = test::temp_file(std::string("fwc_") + act + ".safetensors");
    Generator init(5);
    PMSDSEN model(PmsdsenConfig{19, parse_activation(act)}, init);
    save_weights(model, weights);
    for (bool train : {false, true}) {
      std::map<std::string, Safetensors> out;
      for (const char* device : {"cpu", "cuda"}) {
        const std::string path = test::temp_file(std::string("fwc_out_") + device + ".safetensors");
        const auto r = test::run_tool("forward --device " + std::string(device) + " --weights " + weights +
                                      " --input " + input + " --output " + path +
                                      (train ? " --train --target " + target : std::string()));
        ASSERT_EQ(r.status, 0) << r.output;
        out[device] = load_safetensors(path);
      }
      const auto& cpu = out["cpu"].tensors;
      const auto& gpu = out["cuda"].tensors;
      ASSERT_EQ(cpu.size(), gpu.size());
      ASSERT_EQ(cpu.size(), train ? 3 + 4 + model.named_parameters().size() : 3u);
      double grad_scale = 0;  // the largest gradient anywhere: the floor for tensors whose gradient is ~0
      for (const auto& [name, t] : cpu)
        if (name.rfind("grad.", 0) == 0)
          for (double v : test::values(t)) grad_scale = test::worse(grad_scale, std::fabs(v));
      for (const auto& [name, t] : cpu) {
        const bool grad = name.rfind("grad.", 0) == 0;
        if (grad && std::string(act) == "prelu") continue;
        EXPECT_LT(test::max_rel_diff(gpu.at(name), t, grad ? 1e-3 * grad_scale : 1e-6), grad ? 2e-3 : 1e-4)
            << name << (train ? " (training)" : " (evaluation)");
      }
    }
  }
}
