// Softmax cross-entropy, plain and OHEM.
#include "autograd/ops_loss.h"

#include "autograd/op_impl.h"

namespace pmsdsen::ops {

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
  return on_backend(logits, op, [&](auto b) {
    using B = decltype(b);
    using T = typename B::Scalar;
    auto scalar = [&](DType dtype) { return Tensor::empty({}, dtype, logits.device()); };
    Tensor lse = Tensor::empty(ps, logits.dtype(), logits.device());
    Tensor nll = Tensor::empty(ps, logits.dtype(), logits.device());
    Tensor prob = options.ohem ? Tensor::empty(ps, logits.dtype(), logits.device()) : Tensor();
    Tensor coef = Tensor::empty(ps, logits.dtype(), logits.device());
    Tensor loss = scalar(logits.dtype()), den = scalar(logits.dtype()), bad = scalar(DType::I64);
    Tensor threshold = options.ohem ? scalar(logits.dtype()) : Tensor();
    B::cross_entropy_pixels(logits.data<T>(), target.data<int64_t>(), d.N, d.K, d.S, options.ignore_index,
                            lse.data<T>(), nll.data<T>(), data_or_null<T>(prob));
    if (options.ohem)
      B::ohem_threshold(prob.data<T>(), target.data<int64_t>(), pixels, d.K, options.ignore_index,
                        options.ohem_min_kept, options.ohem_threshold, threshold.data<T>());
    B::cross_entropy_select(target.data<int64_t>(), nll.data<T>(), data_or_null<T>(prob),
                            data_or_null<T>(weight), pixels, d.K, options.ignore_index, options.ohem,
                            data_or_null<T>(threshold), coef.data<T>(), loss.data<T>(), den.data<T>(),
                            bad.data<int64_t>());
    // The one wait of the op on CUDA: invalid targets must be reported here, not as NaN later.
    const int64_t bad_count = bad.item<int64_t>();
    PMSDSEN_CHECK(bad_count == 0, op, ": ", bad_count, " target values of ", shape_str(target.shape()),
                  " are neither a class index in [0, ", d.K, ") nor ignore_index ", options.ignore_index);
    Tensor sx = logits.detach(), st = target.detach();
    return record("cross_entropy", loss, {logits},
                  [sx, st, lse, coef, den, d](const Tensor& g, const Node&) -> GradList {
                    Tensor gx = Tensor::empty_like(sx);
                    B::cross_entropy_backward(sx.data<T>(), st.data<int64_t>(), lse.data<T>(), coef.data<T>(),
                                              g.data<T>(), den.data<T>(), gx.data<T>(), d.N, d.K, d.S);
                    return {gx};
                  });
  });
}

}  // namespace pmsdsen::ops
