// Activations and the softmax across channel groups (declared in autograd/ops_nn.h).
#include "autograd/dispatch.h"
#include "autograd/node.h"
#include "autograd/ops_nn.h"
#include "core/cpu/activation.h"

#ifdef PMSDSEN_WITH_CUDA
#include "cuda/activation.h"
#endif

namespace pmsdsen::ops {

using autograd::dispatch;
using autograd::GradList;
using autograd::Node;
using autograd::record;

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

}  // namespace

Tensor gelu(const Tensor& x) {
  check_input(x, "gelu");
  Tensor y = Tensor::empty_like(x);
  const int64_t n = x.numel();
  dispatch(
      x, "gelu",
      [&](auto tag) {
        using T = typename decltype(tag)::type;
        cpu::gelu_forward<T>(x.data<T>(), y.data<T>(), n);
      },
      [&] { PMSDSEN_IF_CUDA(cuda::gelu_forward(x.data<float>(), y.data<float>(), n)); });
  Tensor sx = x.detach();
  return record("gelu", y, {x}, [sx, n](const Tensor& g, const Node&) -> GradList {
    Tensor gx = Tensor::empty_like(sx);
    dispatch(
        g, "gelu backward",
        [&](auto tag) {
          using T = typename decltype(tag)::type;
          cpu::gelu_backward<T>(g.data<T>(), sx.data<T>(), gx.data<T>(), n);
        },
        [&] { PMSDSEN_IF_CUDA(cuda::gelu_backward(g.data<float>(), sx.data<float>(), gx.data<float>(), n)); });
    return {gx};
  });
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  check_input(x, "leaky_relu");
  Tensor y = Tensor::empty_like(x);
  const int64_t n = x.numel();
  dispatch(
      x, "leaky_relu",
      [&](auto tag) {
        using T = typename decltype(tag)::type;
        cpu::leaky_relu_forward<T>(x.data<T>(), T(negative_slope), y.data<T>(), n);
      },
      [&] {
        PMSDSEN_IF_CUDA(cuda::leaky_relu_forward(x.data<float>(), float(negative_slope), y.data<float>(), n));
      });
  Tensor sx = x.detach();
  return record("leaky_relu", y, {x}, [sx, n, negative_slope](const Tensor& g, const Node&) -> GradList {
    Tensor gx = Tensor::empty_like(sx);
    dispatch(
        g, "leaky_relu backward",
        [&](auto tag) {
          using T = typename decltype(tag)::type;
          cpu::leaky_relu_backward<T>(g.data<T>(), sx.data<T>(), T(negative_slope), gx.data<T>(), n);
        },
        [&] {
          PMSDSEN_IF_CUDA(cuda::leaky_relu_backward(g.data<float>(), sx.data<float>(), float(negative_slope),
                                                    gx.data<float>(), n));
        });
    return {gx};
  });
}

Tensor sigmoid(const Tensor& x) {
  check_input(x, "sigmoid");
  Tensor y = Tensor::empty_like(x);
  const int64_t n = x.numel();
  dispatch(
      x, "sigmoid",
      [&](auto tag) {
        using T = typename decltype(tag)::type;
        cpu::sigmoid_forward<T>(x.data<T>(), y.data<T>(), n);
      },
      [&] { PMSDSEN_IF_CUDA(cuda::sigmoid_forward(x.data<float>(), y.data<float>(), n)); });
  Tensor sy = y.detach();
  return record("sigmoid", y, {x}, [sy, n](const Tensor& g, const Node&) -> GradList {
    Tensor gx = Tensor::empty_like(sy);
    dispatch(
        g, "sigmoid backward",
        [&](auto tag) {
          using T = typename decltype(tag)::type;
          cpu::sigmoid_backward<T>(g.data<T>(), sy.data<T>(), gx.data<T>(), n);
        },
        [&] { PMSDSEN_IF_CUDA(cuda::sigmoid_backward(g.data<float>(), sy.data<float>(), gx.data<float>(), n)); });
    return {gx};
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
  Tensor y = Tensor::empty_like(x);
  dispatch(
      x, "prelu",
      [&](auto tag) {
        using T = typename decltype(tag)::type;
        cpu::prelu_forward<T>(x.data<T>(), slope.data<T>(), count, y.data<T>(), d.N, d.C, d.S);
      },
      [&] {
        PMSDSEN_IF_CUDA(cuda::prelu_forward(x.data<float>(), slope.data<float>(), count, y.data<float>(),
                                            d.N, d.C, d.S));
      });
  Tensor sx = x.detach(), ss = slope.detach();
  return record("prelu", y, {x, slope}, [sx, ss, d, count](const Tensor& g, const Node& node) -> GradList {
    Tensor gx = node.needs_grad(0) ? Tensor::empty_like(sx) : Tensor();
    Tensor gs = node.needs_grad(1) ? Tensor::empty_like(ss) : Tensor();
    dispatch(
        g, "prelu backward",
        [&](auto tag) {
          using T = typename decltype(tag)::type;
          cpu::prelu_backward<T>(g.data<T>(), sx.data<T>(), ss.data<T>(), count,
                                 gx.defined() ? gx.data<T>() : nullptr,
                                 gs.defined() ? gs.data<T>() : nullptr, d.N, d.C, d.S);
        },
        [&] {
          PMSDSEN_IF_CUDA(cuda::prelu_backward(g.data<float>(), sx.data<float>(), ss.data<float>(), count,
                                               gx.defined() ? gx.data<float>() : nullptr,
                                               gs.defined() ? gs.data<float>() : nullptr, d.N, d.C, d.S));
        });
    return {gx, gs};
  });
}

Tensor softmax_groups(const Tensor& x, int64_t groups) {
  check_input(x, "softmax_groups");
  PMSDSEN_CHECK(x.dim() >= 2, "softmax_groups: x must be [N, G*C, ...], got ", x.str());
  PMSDSEN_CHECK(groups >= 1 && x.size(1) % groups == 0, "softmax_groups: ", x.size(1),
                " channels of x ", shape_str(x.shape()), " cannot be split into ", groups, " groups");
  const NCS d(x);
  const int64_t G = groups, C = d.C / groups;
  Tensor y = Tensor::empty_like(x);
  dispatch(
      x, "softmax_groups",
      [&](auto tag) {
        using T = typename decltype(tag)::type;
        cpu::softmax_groups_forward<T>(x.data<T>(), y.data<T>(), d.N, G, C, d.S);
      },
      [&] { PMSDSEN_IF_CUDA(cuda::softmax_groups_forward(x.data<float>(), y.data<float>(), d.N, G, C, d.S)); });
  Tensor sy = y.detach();
  return record("softmax_groups", y, {x}, [sy, d, G, C](const Tensor& g, const Node&) -> GradList {
    Tensor gx = Tensor::empty_like(sy);
    dispatch(
        g, "softmax_groups backward",
        [&](auto tag) {
          using T = typename decltype(tag)::type;
          cpu::softmax_groups_backward<T>(g.data<T>(), sy.data<T>(), gx.data<T>(), d.N, G, C, d.S);
        },
        [&] {
          PMSDSEN_IF_CUDA(cuda::softmax_groups_backward(g.data<float>(), sy.data<float>(), gx.data<float>(),
                                                        d.N, G, C, d.S));
        });
    return {gx};
  });
}

}  // namespace pmsdsen::ops
