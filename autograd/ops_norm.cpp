#include "autograd/ops_norm.h"

#include "autograd/op_impl.h"

namespace pmsdsen::ops {

namespace {

void check_channel_param(const Tensor& x, const Tensor& t, const char* name) {
  if (!t.defined()) return;
  PMSDSEN_CHECK(t.device() == x.device() && t.dtype() == x.dtype(), "batch_norm: '", name, "' is a ",
                t.str(), ", x is a ", x.str());
  PMSDSEN_CHECK(t.dim() == 1 && t.size(0) == x.size(1), "batch_norm: '", name, "' must have shape [",
                x.size(1), "] for x ", shape_str(x.shape()), ", got ", shape_str(t.shape()));
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor& running_mean,
                  Tensor& running_var, bool training, double momentum, double eps) {
  check_defined(x, "batch_norm", "x");
  check_floating(x, "batch_norm", "x");
  PMSDSEN_CHECK(x.dim() >= 2 && x.numel() > 0, "batch_norm: x must be a non-empty [N, C, ...], got ",
                x.str());
  check_channel_param(x, weight, "weight");
  check_channel_param(x, bias, "bias");
  check_channel_param(x, running_mean, "running_mean");
  check_channel_param(x, running_var, "running_var");
  PMSDSEN_CHECK(running_mean.defined() == running_var.defined(),
                "batch_norm: running_mean and running_var must both be given or both be absent");
  PMSDSEN_CHECK(training || running_mean.defined(),
                "batch_norm: evaluation mode needs running_mean and running_var");
  PMSDSEN_CHECK(eps > 0.0, "batch_norm: eps must be positive, got ", eps);
  const int64_t N = x.size(0), C = x.size(1);
  const int64_t S = N * C > 0 ? x.numel() / (N * C) : 0;
  PMSDSEN_CHECK(!training || N * S > 1, "batch_norm: expected more than 1 value per channel when "
                "training, got x ", shape_str(x.shape()));

  return on_backend(x, "batch_norm", [&](auto b) {
    using B = decltype(b);
    using T = typename B::Scalar;
    // Rows: mean, invstd (what the backward needs), scale, shift (the folded affine map).
    Tensor stats = Tensor::empty({4, C}, x.dtype(), x.device());
    Tensor y = Tensor::empty_like(x);
    T* st = stats.data<T>();
    if (training) {
      B::batch_norm_train_stats(x.data<T>(), N, C, S, data_or_null<T>(weight), data_or_null<T>(bias),
                                data_or_null<T>(running_mean), data_or_null<T>(running_var), momentum, eps, st,
                                st + C, st + 2 * C, st + 3 * C);
    } else {
      B::batch_norm_eval_params(running_mean.data<T>(), running_var.data<T>(), data_or_null<T>(weight),
                                data_or_null<T>(bias), C, eps, st, st + C, st + 2 * C, st + 3 * C);
    }
    B::batch_norm_apply(x.data<T>(), st + 2 * C, st + 3 * C, y.data<T>(), N, C, S);

    if (!autograd::any_requires_grad({x, weight, bias})) return y;
    Tensor sx = x.detach(), sw = weight.defined() ? weight.detach() : Tensor();
    return autograd::record(
        "batch_norm", y, {x, weight, bias},
        [sx, sw, stats, training, N, C, S](const Tensor& g, const Node& node) -> GradList {
          Tensor gx = node.needs_grad(0) ? Tensor::empty_like(sx) : Tensor();
          Tensor gw = node.needs_grad(1) ? Tensor::empty({C}, sx.dtype(), sx.device()) : Tensor();
          Tensor gb = node.needs_grad(2) ? Tensor::empty({C}, sx.dtype(), sx.device()) : Tensor();
          const T* st = stats.data<T>();
          B::batch_norm_backward(g.data<T>(), sx.data<T>(), st, st + C, data_or_null<T>(sw), N, C, S, training,
                                 data_or_null<T>(gx), data_or_null<T>(gw), data_or_null<T>(gb));
          return {gx, gw, gb};
        });
  });
}

}  // namespace pmsdsen::ops
