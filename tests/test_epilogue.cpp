// The inference epilogue (ops::epilogue, ops::conv2d_epilogue, ops::conv2d_epilogue_into):
// every term against a plain double-precision loop and the unfused ops, in place and not,
// between channel windows, on both devices (CUDA parity at odd sizes, the float4 path, the
// depthwise kernel's own epilogue and windows), and the refusals (gradients, mismatched
// operands, overlapping windows).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/ops_activation.h"
#include "autograd/ops_basic.h"
#include "autograd/ops_conv.h"
#include "tests/test_util.h"

using namespace pmsdsen;

namespace {

const char* act_name(EpiAct a) {
  switch (a) {
    case EpiAct::Gelu: return "gelu";
    case EpiAct::Prelu: return "prelu";
    case EpiAct::Leaky: return "leaky";
    default: return "none";
  }
}

// Which optional terms a case uses.
struct Terms {
  bool scale, residual, residual_scale, mul, add;
  EpiAct act;
  bool shared_slope = false;
};

std::vector<Terms> all_terms() {
  std::vector<Terms> out;
  for (EpiAct act : {EpiAct::None, EpiAct::Gelu, EpiAct::Prelu, EpiAct::Leaky}) {
    out.push_back({true, true, true, true, true, act});
    out.push_back({false, false, false, false, true, act});  // a conv's bias and activation
    out.push_back({false, true, false, true, true, act});    // bn_act of a sum
  }
  out.push_back({true, false, false, false, false, EpiAct::Prelu, true});
  out.push_back({false, false, false, false, false, EpiAct::None});  // the identity
  return out;
}

// Random operands for an output of `shape` (CPU, dtype).
ops::EpilogueSpec make_spec(const Terms& t, const Shape& shape, Generator& gen, DType dtype) {
  const int64_t N = shape[0], C = shape[1];
  ops::EpilogueSpec e;
  if (t.scale) e.scale = test::random_tensor({N, C, 1, 1}, gen, dtype, 0.2, 1.5);
  if (t.residual) e.residual = test::random_tensor(shape, gen, dtype, -2, 2);
  if (t.residual_scale) e.residual_scale = test::random_tensor({N, C, 1, 1}, gen, dtype, 0.2, 1.5);
  if (t.mul) e.mul = test::random_tensor({C}, gen, dtype, 0.5, 2);
  if (t.add) e.add = test::random_tensor({C}, gen, dtype, -1, 1);
  e.act = t.act;
  if (t.act == EpiAct::Prelu) e.slope = test::random_tensor({t.shared_slope ? 1 : C}, gen, dtype, 0, 0.5);
  e.leaky_slope = 0.2;
  return e;
}

ops::EpilogueSpec spec_to(const ops::EpilogueSpec& e, Device d) {
  ops::EpilogueSpec o = e;
  for (Tensor* t : {&o.scale, &o.residual, &o.residual_scale, &o.mul, &o.add, &o.slope})
    if (t->defined()) *t = t->to(d);
  return o;
}

// The epilogue written out in double, element by element.
std::vector<double> reference(const std::vector<double>& x, const ops::EpilogueSpec& e, const Shape& shape) {
  const int64_t N = shape[0], C = shape[1], S = shape_numel(shape) / (N * C);
  auto vals = [](const Tensor& t) { return t.defined() ? test::values(t) : std::vector<double>(); };
  const auto scale = vals(e.scale), res = vals(e.residual), rs = vals(e.residual_scale), mul = vals(e.mul),
             add = vals(e.add), slope = vals(e.slope);
  std::vector<double> y(x.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t s = 0; s < S; ++s) {
        const size_t i = static_cast<size_t>((n * C + c) * S + s), nc = static_cast<size_t>(n * C + c);
        double v = x[i] * (scale.empty() ? 1.0 : scale[nc]);
        if (!res.empty()) v += res[i] * (rs.empty() ? 1.0 : rs[nc]);
        v = v * (mul.empty() ? 1.0 : mul[c]) + (add.empty() ? 0.0 : add[c]);
        switch (e.act) {
          case EpiAct::Gelu: v = 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); break;
          case EpiAct::Prelu: v = v > 0 ? v : v * slope[slope.size() == 1 ? 0 : c]; break;
          case EpiAct::Leaky: v = v > 0 ? v : v * e.leaky_slope; break;
          default: break;
        }
        y[i] = v;
      }
  return y;
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) d = test::worse(d, std::abs(a[i] - b[i]));
  return d;
}

TEST(Epilogue, EveryTermMatchesTheFormulaInDouble) {
  Generator gen(5);
  const Shape shape{2, 5, 3, 7};
  for (const Terms& t : all_terms()) {
    const ops::EpilogueSpec e = make_spec(t, shape, gen, DType::F64);
    const Tensor x = test::random_tensor(shape, gen, DType::F64, -3, 3);
    const std::vector<double> want = reference(test::values(x), e, shape);
    EXPECT_LT(max_abs_diff(test::values(ops::epilogue(x, e)), want), 1e-12) << act_name(t.act);
    Tensor inplace = x.clone();
    ops::epilogue_(inplace, e);
    EXPECT_EQ(test::values(inplace), test::values(ops::epilogue(x, e))) << "in place, " << act_name(t.act);
  }
}

TEST(Epilogue, ActivationsAloneEqualTheirOps) {
  Generator gen(6);
  const Tensor x = test::random_tensor({2, 3, 4, 5}, gen, DType::F32, -3, 3);
  const Tensor slope = test::random_tensor({3}, gen, DType::F32, 0, 0.5);
  ops::EpilogueSpec e;
  e.act = EpiAct::Gelu;
  EXPECT_LT(test::max_rel_diff(ops::epilogue(x, e), ops::gelu(x)), 1e-6);
  e.act = EpiAct::Prelu;
  e.slope = slope;
  EXPECT_EQ(ops::epilogue(x, e).to_vector<float>(), ops::prelu(x, slope).to_vector<float>());
  e = {};
  e.act = EpiAct::Leaky;
  e.leaky_slope = 0.2;
  EXPECT_EQ(ops::epilogue(x, e).to_vector<float>(), ops::leaky_relu(x, 0.2).to_vector<float>());
}

struct ConvCase {
  const char* name;
  Shape x, w;
  ops::Conv2dOptions o;
};

std::vector<ConvCase> conv_cases() {
  return {{"depthwise 3x3 dilation 2", {2, 6, 11, 19}, {6, 1, 3, 3}, {1, 2, 2, 6}},
          {"depthwise 3x3 dilation 1", {3, 5, 9, 8}, {5, 1, 3, 3}, {1, 1, 1, 5}},
          {"pointwise", {2, 7, 5, 9}, {9, 7, 1, 1}, {1, 0, 1, 1}},
          {"dense 3x3 stride 2", {2, 3, 10, 13}, {5, 3, 3, 3}, {2, 1, 1, 1}},
          // the CUDA pointwise kernel: several blocks of output channels, the last one partial
          {"pointwise 37 -> 35", {2, 37, 7, 13}, {35, 37, 1, 1}, {1, 0, 1, 1}}};
}

TEST(Conv2dEpilogue, EqualsTheConvolutionThenTheEpilogueInDouble) {
  Generator gen(7);
  for (const ConvCase& cc : conv_cases()) {
    const Tensor x = test::random_tensor(cc.x, gen, DType::F64), w = test::random_tensor(cc.w, gen, DType::F64);
    const Tensor plain = ops::conv2d(x, w, Tensor(), cc.o);
    for (const Terms& t : all_terms()) {
      const ops::EpilogueSpec e = make_spec(t, plain.shape(), gen, DType::F64);
      const Tensor y = ops::conv2d_epilogue(x, w, cc.o, e);
      EXPECT_EQ(y.shape(), plain.shape()) << cc.name;
      EXPECT_LT(max_abs_diff(test::values(y), reference(test::values(plain), e, plain.shape())), 1e-12)
          << cc.name << ", " << act_name(t.act);
    }
  }
}

TEST(EpilogueCuda, MatchesCpuAtOddSizesAndOnTheVectorPath) {
  PMSDSEN_REQUIRE_CUDA();
  Generator gen(8);
  for (const Shape& shape : {Shape{3, 37, 5, 13}, Shape{2, 8, 16, 16}}) {
    for (const Terms& t : all_terms()) {
      const ops::EpilogueSpec e = make_spec(t, shape, gen, DType::F32);
      const Tensor x = test::random_tensor(shape, gen, DType::F32, -3, 3);
      const Tensor want = ops::epilogue(x, e);
      const Tensor got = ops::epilogue(x.to(Device::cuda()), spec_to(e, Device::cuda()));
      EXPECT_LT(test::max_rel_diff(got, want), 1e-5) << shape_str(shape) << ", " << act_name(t.act);
      Tensor inplace = x.to(Device::cuda());
      ops::epilogue_(inplace, spec_to(e, Device::cuda()));
      EXPECT_EQ(inplace.cpu().to_vector<float>(), got.cpu().to_vector<float>()) << "in place";
    }
  }
}

TEST(Conv2dEpilogueCuda, MatchesCpuOnEveryPathIncludingTheDepthwiseKernel) {
  PMSDSEN_REQUIRE_CUDA();
  Generator gen(9);
  for (const ConvCase& cc : conv_cases()) {
    const Tensor x = test::random_tensor(cc.x, gen, DType::F32), w = test::random_tensor(cc.w, gen, DType::F32);
    const Shape out = ops::conv2d(x, w, Tensor(), cc.o).shape();
    for (const Terms& t : all_terms()) {
      const ops::EpilogueSpec e = make_spec(t, out, gen, DType::F32);
      const Tensor want = ops::conv2d_epilogue(x, w, cc.o, e);
      const Tensor got =
          ops::conv2d_epilogue(x.to(Device::cuda()), w.to(Device::cuda()), cc.o, spec_to(e, Device::cuda()));
      EXPECT_LT(test::max_rel_diff(got, want), 1e-5) << cc.name << ", " << act_name(t.act);
    }
  }
}

// conv2d_epilogue_into: windows of larger tensors (batch 2, odd planes), with and without a
// per-sample input scale, against slicing, scaling, adding and convolving densely; the
// channels outside dst's window stay as they were.
struct WindowCase {
  const char* name;
  int64_t x_total, x_first, a_total, a_first;  // a_total 0: no addend
  ConvCase conv;
  int64_t y_total, y_first;
  bool scaled = false;  // a per-sample scale on the input window
};

std::vector<WindowCase> window_cases() {
  const std::vector<ConvCase> c = conv_cases();
  return {{"depthwise with an addend", 11, 3, 9, 1, c[0], 13, 5},
          {"depthwise, no addend", 5, 0, 0, 0, c[1], 5, 0},
          {"pointwise", 12, 4, 0, 0, c[2], 10, 1},
          {"pointwise with an addend", 8, 1, 7, 0, c[2], 9, 0},
          {"dense 3x3 stride 2", 4, 1, 0, 0, c[3], 7, 2},
          {"pointwise 37 -> 35", 40, 2, 0, 0, c[4], 36, 1},
          {"depthwise, scaled, with an addend", 11, 3, 9, 1, c[0], 13, 5, true},
          {"pointwise 37 -> 35, scaled", 40, 2, 0, 0, c[4], 36, 1, true},
          {"pointwise, scaled, with an addend", 8, 1, 7, 0, c[2], 9, 0, true},
          {"dense 3x3 stride 2, scaled", 4, 1, 0, 0, c[3], 7, 2, true}};
}

struct WindowRun {
  Tensor x, a, w, y, s;
  ops::EpilogueSpec e;
};

WindowRun window_inputs(const WindowCase& wc, Generator& gen, DType dtype) {
  WindowRun r;
  const Shape& xs = wc.conv.x;
  r.x = test::random_tensor({xs[0], wc.x_total, xs[2], xs[3]}, gen, dtype);
  if (wc.a_total) r.a = test::random_tensor({xs[0], wc.a_total, xs[2], xs[3]}, gen, dtype);
  r.w = test::random_tensor(wc.conv.w, gen, dtype);
  if (wc.scaled) r.s = test::random_tensor({xs[0], xs[1], 1, 1}, gen, dtype, 0.2, 1.5);
  const Shape out = ops::conv2d(Tensor::zeros(xs, dtype), r.w, Tensor(), wc.conv.o).shape();
  r.y = test::random_tensor({out[0], wc.y_total, out[2], out[3]}, gen, dtype);
  r.e = make_spec({false, false, false, true, true, EpiAct::Prelu}, out, gen, dtype);
  return r;
}

Tensor run_into(const WindowCase& wc, const WindowRun& r, Device d) {
  Tensor y = r.y.to(d).clone();
  ops::conv2d_epilogue_into({r.x.to(d), wc.x_first, wc.conv.x[1], r.s.defined() ? r.s.to(d) : Tensor()},
                            {r.a.defined() ? r.a.to(d) : Tensor(), wc.a_first, wc.conv.x[1]}, r.w.to(d), wc.conv.o,
                            spec_to(r.e, d), {y, wc.y_first, wc.conv.w[0]});
  return y;
}

TEST(Conv2dEpilogueInto, EqualsSlicingAddingAndConvolvingInDouble) {
  Generator gen(10);
  for (const WindowCase& wc : window_cases()) {
    const WindowRun r = window_inputs(wc, gen, DType::F64);
    const int64_t cin = wc.conv.x[1], cout = wc.conv.w[0];
    Tensor in = ops::slice_channels(r.x, wc.x_first, cin);
    if (r.s.defined()) in = ops::mul_channel(in, r.s);
    if (r.a.defined()) in = in + ops::slice_channels(r.a, wc.a_first, cin);
    const Tensor want = ops::conv2d_epilogue(in, r.w, wc.conv.o, r.e);
    const Tensor y = run_into(wc, r, Device::cpu());
    EXPECT_LT(max_abs_diff(test::values(ops::slice_channels(y, wc.y_first, cout)), test::values(want)), 1e-12)
        << wc.name;
    for (auto [first, count] : {std::pair<int64_t, int64_t>{0, wc.y_first},
                                {wc.y_first + cout, wc.y_total - wc.y_first - cout}}) {
      if (count > 0) {
        EXPECT_EQ(test::values(ops::slice_channels(y, first, count)), test::values(ops::slice_channels(r.y, first, count)))
            << wc.name << ": channels outside the window changed";
      }
    }
  }
}

TEST(Conv2dEpilogueIntoCuda, MatchesCpuOnEveryPath) {
  PMSDSEN_REQUIRE_CUDA();
  Generator gen(11);
  for (const WindowCase& wc : window_cases()) {
    const WindowRun r = window_inputs(wc, gen, DType::F32);
    EXPECT_LT(test::max_rel_diff(run_into(wc, r, Device::cuda()), run_into(wc, r, Device::cpu())), 1e-5) << wc.name;
  }
}

TEST(Conv2dEpilogueInto, RefusesOverlapsAndPerSampleTerms) {
  const Tensor t = Tensor::zeros({1, 8, 5, 5}), w = Tensor::zeros({4, 1, 3, 3});
  const ops::Conv2dOptions dw{1, 1, 1, 4};
  EXPECT_NE(test::error_of([&] { ops::conv2d_epilogue_into({t, 0, 4}, {}, w, dw, {}, {t, 2, 4}); }).find("overlaps"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { ops::conv2d_epilogue_into({t, 6, 4}, {}, w, dw, {}, {t, 0, 4}); }).find("outside"),
            std::string::npos);
  ops::EpilogueSpec e;
  e.residual = Tensor::zeros({1, 4, 5, 5});
  EXPECT_NE(test::error_of([&] { ops::conv2d_epilogue_into({t, 0, 4}, {}, w, dw, e, {t, 4, 4}); }).find("per channel"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { ops::conv2d_epilogue_into({t, 0, 4}, {}, w, dw, {}, {t, 4, 3}); }).find("dst window"),
            std::string::npos);
}

TEST(EcaScale, IsTheSigmoidOfTheChannelConvolution) {
  Generator gen(12);
  const Tensor x = test::random_tensor({3, 37, 1, 1}, gen, DType::F64, -2, 2);
  const Tensor w = test::random_tensor({1, 1, 5}, gen, DType::F64);
  EXPECT_LT(test::max_rel_diff(ops::eca_scale(x, w), ops::sigmoid(ops::channel_conv1d(x, w))), 1e-14);
  EXPECT_NE(test::error_of([&] { ops::eca_scale(x, Tensor::zeros({1, 1, 4}, DType::F64)); }).find("eca_scale"),
            std::string::npos);
}

TEST(EcaScaleCuda, MatchesCpu) {
  PMSDSEN_REQUIRE_CUDA();
  Generator gen(13);
  const Tensor x = test::random_tensor({3, 37, 1, 1}, gen, DType::F32, -2, 2);
  const Tensor w = test::random_tensor({1, 1, 5}, gen, DType::F32);
  EXPECT_LT(test::max_rel_diff(ops::eca_scale(x.to(Device::cuda()), w.to(Device::cuda())), ops::eca_scale(x, w)),
            1e-6);
}

TEST(Epilogue, IsInferenceOnlyAndNamesTheOperandAtFault) {
  const Tensor x = Tensor::zeros({2, 3, 4, 4});
  ops::EpilogueSpec e;
  e.add = Tensor::zeros({4});
  EXPECT_NE(test::error_of([&] { ops::epilogue(x, e); }).find("epilogue add must be [C] (3 values)"),
            std::string::npos);
  e = {};
  e.residual = Tensor::zeros({2, 3, 4, 5});
  EXPECT_NE(test::error_of([&] { ops::epilogue(x, e); }).find("residual"), std::string::npos);
  e = {};
  e.act = EpiAct::Prelu;
  EXPECT_NE(test::error_of([&] { ops::epilogue(x, e); }).find("PReLU without a slope"), std::string::npos);
  e = {};
  e.scale = Tensor::zeros({2, 3, 1, 1}, DType::F64);
  EXPECT_NE(test::error_of([&] { ops::epilogue(x, e); }).find("epilogue"), std::string::npos);

  Tensor leaf = Tensor::zeros({2, 3, 4, 4});
  leaf.set_requires_grad(true);
  const Tensor w = Tensor::zeros({3, 3, 1, 1});
  EXPECT_NE(test::error_of([&] { ops::epilogue(leaf, {}); }).find("is for inference"), std::string::npos);
  EXPECT_NE(test::error_of([&] { ops::conv2d_epilogue(leaf, w, {}, {}); }).find("conv2d_epilogue is for inference"),
            std::string::npos);
  autograd::NoGradGuard no_grad;
  EXPECT_EQ(ops::epilogue(leaf, {}).to_vector<float>(), leaf.to_vector<float>());
}

}  // namespace
