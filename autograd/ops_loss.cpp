// Softmax cross-entropy (plain and OHEM) and the per-pixel argmax (declared in
// autograd/ops_nn.h).
#include "autograd/dispatch.h"
#include "autograd/node.h"
#include "autograd/ops_nn.h"
#include "core/cpu/loss.h"

#ifdef PMSDSEN_WITH_CUDA
#include "cuda/loss.h"
#endif

namespace pmsdsen::ops {

using autograd::dispatch;
using autograd::GradList;
using autograd::Node;
using autograd::record;

namespace {

// Shape of logits [N, K, ...] as N, K and S = product of the trailing dims.
struct NKS {
  int64_t N, K, S;
};

NKS logits_geometry(const Tensor& logits, const char* op) {
  check_defined(logits, op, "logits");
  check_floating(logits, op, "logits");
  PMSDSEN_CHECK(logits.dim() >= 2 && logits.size(1) > 0, op, ": logits must be [N, K, ...] with K > 0, got ",
                logits.str());
  const int64_t N = logits.size(0), K = logits.size(1);
  return {N, K, N * K > 0 ? logits.numel() / (N * K) : 0};
}

Shape pixel_shape(const Tensor& logits) {
  Shape s = logits.shape();
  s.erase(s.begin() + 1);
  return s;
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyOptions& options) {
  const char* op = options.ohem ? "cross_entropy (ohem)" : "cross_entropy";
  const NKS d = logits_geometry(logits, op);
  check_defined(target, op, "target");
  PMSDSEN_CHECK(target.dtype() == DType::I64, op, ": target must be int64, got ", target.str());
  PMSDSEN_CHECK(target.device() == logits.device(), op, ": target is a ", target.str(), ", logits a ",
                logits.str());
  PMSDSEN_CHECK(target.shape() == pixel_shape(logits), op, ": target ", shape_str(target.shape()),
                " does not match logits ", shape_str(logits.shape()), " (expected ",
                shape_str(pixel_shape(logits)), ")");
  Tensor weight = options.class_weights;
  if (weight.defined()) {
    PMSDSEN_CHECK(weight.dim() == 1 && weight.size(0) == d.K && is_floating(weight.dtype()), op,
                  ": class_weights must be a float tensor of shape [", d.K, "] for ", d.K,
                  " classes, got ", weight.str());
    weight = weight.detach().to(logits.dtype()).to(logits.device());
  }
  PMSDSEN_CHECK(!options.ohem || options.ohem_min_kept >= 0, op, ": ohem_min_kept must not be negative, got ",
                options.ohem_min_kept);
  const int64_t pixels = d.N * d.S;
  const Shape ps = pixel_shape(logits);
  Tensor lse = Tensor::empty(ps, logits.dtype(), logits.device());
  Tensor nll = Tensor::empty(ps, logits.dtype(), logits.device());
  Tensor prob = options.ohem ? Tensor::empty(ps, logits.dtype(), logits.device()) : Tensor();
  Tensor coef = Tensor::empty(ps, logits.dtype(), logits.device());
  Tensor loss = Tensor::empty({}, logits.dtype(), logits.device());
  Tensor den = Tensor::empty({}, logits.dtype(), logits.device());
  int64_t bad = 0;
  dispatch(
      logits, op,
      [&](auto tag) {
        using T = typename decltype(tag)::type;
        bad = cpu::cross_entropy_pixels<T>(logits.data<T>(), target.data<int64_t>(), d.N, d.K, d.S,
                                           options.ignore_index, lse.data<T>(), nll.data<T>(),
                                           prob.defined() ? prob.data<T>() : nullptr);
        if (bad) return;
        const T threshold =
            options.ohem ? cpu::ohem_threshold<T>(prob.data<T>(), target.data<int64_t>(), pixels, d.K,
                                                  options.ignore_index, options.ohem_min_kept,
                                                  options.ohem_threshold)
                         : T(0);
        double num = 0.0, sum_w = 0.0;
        cpu::cross_entropy_select<T>(target.data<int64_t>(), nll.data<T>(),
                                     prob.defined() ? prob.data<T>() : nullptr,
                                     weight.defined() ? weight.data<T>() : nullptr, pixels, d.K,
                                     options.ignore_index, options.ohem, threshold, coef.data<T>(), &num,
                                     &sum_w);
        *loss.data<T>() = static_cast<T>(sum_w > 0.0 ? num / sum_w : 0.0);
        *den.data<T>() = static_cast<T>(sum_w);
      },
      [&] {
        PMSDSEN_IF_CUDA({
          Tensor threshold = options.ohem ? Tensor::empty({1}, DType::F32, logits.device()) : Tensor();
          Tensor bad_count = Tensor::empty({1}, DType::I64, logits.device());
          cuda::cross_entropy_pixels(logits.data<float>(), target.data<int64_t>(), d.N, d.K, d.S,
                                     options.ignore_index, lse.data<float>(), nll.data<float>(),
                                     prob.defined() ? prob.data<float>() : nullptr);
          if (options.ohem)
            cuda::ohem_threshold(prob.data<float>(), target.data<int64_t>(), pixels, d.K,
                                 options.ignore_index, options.ohem_min_kept, options.ohem_threshold,
                                 threshold.data<float>());
          cuda::cross_entropy_select(target.data<int64_t>(), nll.data<float>(),
                                     prob.defined() ? prob.data<float>() : nullptr,
                                     weight.defined() ? weight.data<float>() : nullptr, pixels, d.K,
                                     options.ignore_index, options.ohem,
                                     threshold.defined() ? threshold.data<float>() : nullptr,
                                     coef.data<float>(), loss.data<float>(), den.data<float>(),
                                     bad_count.data<int64_t>());
          // The one wait of the op: invalid targets must be reported here, not as NaN later.
          bad = bad_count.item<int64_t>();
        });
      });
  PMSDSEN_CHECK(bad == 0, op, ": ", bad, " target values of ", shape_str(target.shape()),
                " are neither a class index in [0, ", d.K, ") nor ignore_index ", options.ignore_index);

  Tensor sx = logits.detach(), st = target.detach();
  return record("cross_entropy", loss, {logits}, [sx, st, lse, coef, den, d](const Tensor& g, const Node&) -> GradList {
    Tensor gx = Tensor::empty_like(sx);
    dispatch(
        g, "cross_entropy backward",
        [&](auto tag) {
          using T = typename decltype(tag)::type;
          const double dv = *den.data<T>();
          const T scale = static_cast<T>(dv > 0.0 ? static_cast<double>(*g.data<T>()) / dv : 0.0);
          cpu::cross_entropy_backward<T>(sx.data<T>(), st.data<int64_t>(), lse.data<T>(), coef.data<T>(),
                                         scale, gx.data<T>(), d.N, d.K, d.S);
        },
        [&] {
          PMSDSEN_IF_CUDA(cuda::cross_entropy_backward(sx.data<float>(), st.data<int64_t>(), lse.data<float>(),
                                                       coef.data<float>(), g.data<float>(), den.data<float>(),
                                                       gx.data<float>(), d.N, d.K, d.S));
        });
    return {gx};
  });
}

Tensor argmax_channels(const Tensor& logits) {
  const NKS d = logits_geometry(logits, "argmax_channels");
  Tensor out = Tensor::empty(pixel_shape(logits), DType::I64, logits.device());
  dispatch(
      logits, "argmax_channels",
      [&](auto tag) {
        using T = typename decltype(tag)::type;
        cpu::argmax_channels<T>(logits.data<T>(), out.data<int64_t>(), d.N, d.K, d.S);
      },
      [&] {
        PMSDSEN_IF_CUDA(cuda::argmax_channels(logits.data<float>(), out.data<int64_t>(), d.N, d.K, d.S));
      });
  return out;
}

}  // namespace pmsdsen::ops
