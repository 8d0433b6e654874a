#include "autograd/ops_activation.h"

#include "autograd/grad_mode.h"
#include "autograd/op_impl.h"

namespace pmsdsen::ops {

namespace {

void check_input(const Tensor& x, const char* op) {
  check_defined(x, op, "x");
  check_floating(x, op, "x");
}

// [N, C, S] view of a tensor with at least two dims.
struct NCS {
  int64_t N, C, S;
  explicit NCS(const Tensor& x)
      : N(x.size(0)), C(x.size(1)), S(x.size(0) * x.size(1) > 0 ? x.numel() / (x.size(0) * x.size(1)) : 0) {}
};

// y = f(x) elementwise. forward(B, x, y, n) and backward(B, g, saved, gx, n) call the
// backend's kernels; `saved` is x, or y when the derivative is written in the output.
template <class Forward, class Backward>
Tensor elementwise(const char* op, const Tensor& x, bool saves_output, Forward forward, Backward backward) {
  check_input(x, op);
  return on_backend(x, op, [&](auto b) {
    using B = decltype(b);
    using T = typename B::Scalar;
    Tensor y = Tensor::empty_like(x);
    const int64_t n = x.numel();
    forward(b, x.data<T>(), y.data<T>(), n);
    Tensor saved = (saves_output ? y : x).detach();
    return record(op, y, {x}, [saved, n, backward](const Tensor& g, const Node&) -> GradList {
      Tensor gx = Tensor::empty_like(saved);
      backward(B{}, g.data<T>(), saved.data<T>(), gx.data<T>(), n);
      return {gx};
    });
  });
}

}  // namespace

Tensor gelu(const Tensor& x) {
  return elementwise(
      "gelu", x, false, [](auto b, auto... a) { decltype(b)::gelu_forward(a...); },
      [](auto b, auto... a) { decltype(b)::gelu_backward(a...); });
}

Tensor sigmoid(const Tensor& x) {
  return elementwise(
      "sigmoid", x, true, [](auto b, auto... a) { decltype(b)::sigmoid_forward(a...); },
      [](auto b, auto... a) { decltype(b)::sigmoid_backward(a...); });
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return elementwise(
      "leaky_relu", x, false,
      [negative_slope](auto b, const auto* in, auto* out, int64_t n) {
        using T = std::remove_const_t<std::remove_pointer_t<decltype(in)>>;
        decltype(b)::leaky_relu_forward(in, T(negative_slope), out, n);
      },
      [negative_slope](auto b, const auto* g, const auto* x, auto* gx, int64_t n) {
        using T = std::remove_const_t<std::remove_pointer_t<decltype(x)>>;
        decltype(b)::leaky_relu_backward(g, x, T(negative_slope), gx, n);
      });
}

Tensor prelu(const Tensor& x, const Tensor& slope) {
  check_input(x, "prelu");
  check_defined(slope, "prelu", "slope");
  PMSDSEN_CHECK(x.dim() >= 2, "prelu: x must be [N, C, ...], got ", x.str());
  PMSDSEN_CHECK(slope.device() == x.device() && slope.dtype() == x.dtype(), "prelu: slope is a ",
                slope.str(), ", x is a ", x.str());
  PMSDSEN_CHECK(slope.dim() == 1 && (slope.size(0) == x.size(1) || slope.size(0) == 1),
                "prelu: slope must have shape [", x.size(1), "] (or [1]) for x ", shape_str(x.shape()),
                ", got ", shape_str(slope.shape()));
  const NCS d(x);
  const int64_t count = slope.numel();
  return on_backend(x, "prelu", [&](auto b) {
    using B = decltype(b);
    using T = typename B::Scalar;
    Tensor y = Tensor::empty_like(x);
    B::prelu_forward(x.data<T>(), slope.data<T>(), count, y.data<T>(), d.N, d.C, d.S);
    Tensor sx = x.detach(), ss = slope.detach();
    return record("prelu", y, {x, slope}, [sx, ss, d, count](const Tensor& g, const Node& node) -> GradList {
      Tensor gx = node.needs_grad(0) ? Tensor::empty_like(sx) : Tensor();
      Tensor gs = node.needs_grad(1) ? Tensor::empty_like(ss) : Tensor();
      B::prelu_backward(g.data<T>(), sx.data<T>(), ss.data<T>(), count, autograd::data_or_null<T>(gx),
                        autograd::data_or_null<T>(gs), d.N, d.C, d.S);
      return {gx, gs};
    });
  });
}

Tensor softmax_groups(const Tensor& x, int64_t groups) {
  check_input(x, "softmax_groups");
  PMSDSEN_CHECK(x.dim() >= 2, "softmax_groups: x must be [N, G*C, ...], got ", x.str());
  PMSDSEN_CHECK(groups >= 1 && x.size(1) % groups == 0, "softmax_groups: ", x.size(1),
                " channels of x ", shape_str(x.shape()), " cannot be split into ", groups, " groups");
  const NCS d(x);
  const int64_t G = groups, C = d.C / groups;
  return on_backend(x, "softmax_groups", [&](auto b) {
    using B = decltype(b);
    using T = typename B::Scalar;
    Tensor y = Tensor::empty_like(x);
    B::softmax_groups_forward(x.data<T>(), y.data<T>(), d.N, G, C, d.S);
    Tensor sy = y.detach();
    return record("softmax_groups", y, {x}, [sy, d, G, C](const Tensor& g, const Node&) -> GradList {
      Tensor gx = Tensor::empty_like(sy);
      B::softmax_groups_backward(g.data<T>(), sy.data<T>(), gx.data<T>(), d.N, G, C, d.S);
      return {gx};
    });
  });
}

// ---- the inference epilogue -------------------------------------------------------------

void check_inference_only(const char* op, std::initializer_list<const Tensor*> operands) {
  if (!autograd::GradMode::is_enabled()) return;
  for (const Tensor* t : operands)
    PMSDSEN_CHECK(!t->defined() || !t->requires_grad(), op, " is for inference and has no gradient: run it "
                  "under autograd::NoGradGuard, or with operands that need none (one needs a gradient: ",
                  t->str(), ")");
}

template <class T>
Epilogue<T> epilogue_args(const EpilogueSpec& e, const Shape& shape, const Tensor& like, const char* op) {
  PMSDSEN_CHECK(shape.size() >= 2, op, ": the epilogue needs an output [N, C, ...], got ", shape_str(shape));
  const int64_t N = shape[0], C = shape[1];
  auto operand = [&](const Tensor& t, int64_t numel, const char* what, const char* expect) -> const T* {
    if (!t.defined()) return nullptr;
    check_same_device(like, t, op);
    check_same_dtype(like, t, op);
    PMSDSEN_CHECK(t.numel() == numel, op, ": epilogue ", what, " must be ", expect, " (", numel,
                  " values) for an output ", shape_str(shape), ", got ", t.str());
    return t.data<T>();
  };
  Epilogue<T> a;
  a.scale = operand(e.scale, N * C, "scale", "[N, C, 1, 1]");
  if (e.residual.defined())
    PMSDSEN_CHECK(e.residual.shape() == shape, op, ": epilogue residual ", e.residual.str(),
                  " does not match the output ", shape_str(shape));
  a.residual = operand(e.residual, shape_numel(shape), "residual", "the output's shape");
  PMSDSEN_CHECK(!e.residual_scale.defined() || e.residual.defined(), op,
                ": epilogue residual_scale without a residual");
  a.residual_scale = operand(e.residual_scale, N * C, "residual_scale", "[N, C, 1, 1]");
  a.mul = operand(e.mul, C, "mul", "[C]");
  a.add = operand(e.add, C, "add", "[C]");
  a.act = e.act;
  if (e.act == EpiAct::Prelu) {
    PMSDSEN_CHECK(e.slope.defined(), op, ": epilogue PReLU without a slope");
    a.slope_count = e.slope.numel();
    a.slope = operand(e.slope, a.slope_count == 1 ? 1 : C, "slope", "[C] or [1]");
  } else {
    PMSDSEN_CHECK(!e.slope.defined(), op, ": epilogue slope given without a PReLU activation");
  }
  a.leaky_slope = static_cast<T>(e.leaky_slope);
  return a;
}
template Epilogue<float> epilogue_args<float>(const EpilogueSpec&, const Shape&, const Tensor&, const char*);
template Epilogue<double> epilogue_args<double>(const EpilogueSpec&, const Shape&, const Tensor&, const char*);

namespace {

void run_epilogue(const char* op, const Tensor& x, const Tensor& y, const EpilogueSpec& e) {
  check_input(x, op);
  check_inference_only(op, {&x, &e.scale, &e.residual, &e.residual_scale, &e.mul, &e.add, &e.slope});
  PMSDSEN_CHECK(x.dim() >= 2, op, ": x must be [N, C, ...], got ", x.str());
  on_backend(x, op, [&](auto b) {
    using B = decltype(b);
    using T = typename B::Scalar;
    const NCS d(x);
    B::epilogue(x.data<T>(), y.data<T>(), d.N, d.C, d.S, epilogue_args<T>(e, x.shape(), x, op));
    return y;
  });
}

}  // namespace

Tensor epilogue(const Tensor& x, const EpilogueSpec& e) {
  check_defined(x, "epilogue", "x");
  Tensor y = Tensor::empty_like(x);
  run_epilogue("epilogue", x, y, e);
  return y;
}

void epilogue_(const Tensor& x, const EpilogueSpec& e) { run_epilogue("epilogue_", x, x, e); }

}  // namespace pmsdsen::ops
