#include "autograd/ops_argmax.h"

#include "autograd/op_impl.h"

namespace pmsdsen::ops {

Tensor argmax_channels(const Tensor& logits) {
  const char* op = "argmax_channels";
  check_defined(logits, op, "logits");
  check_floating(logits, op, "logits");
  PMSDSEN_CHECK(logits.dim() >= 2 && logits.size(1) > 0, op, ": logits must be [N, K, ...] with K > 0, got ",
                logits.str());
  const int64_t N = logits.size(0), K = logits.size(1), S = N * K > 0 ? logits.numel() / (N * K) : 0;
  Shape pixels = logits.shape();
  pixels.erase(pixels.begin() + 1);
  Tensor out = Tensor::empty(pixels, DType::I64, logits.device());
  autograd::on_backend(logits, op, [&](auto b) {
    using T = typename decltype(b)::Scalar;
    decltype(b)::argmax_channels(logits.data<T>(), out.data<int64_t>(), N, K, S);
  });
  return out;
}

}  // namespace pmsdsen::ops
