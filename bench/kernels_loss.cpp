// The cross-entropy, forward and backward, over full-resolution logits. cuDNN has none.
#include <string>
#include <vector>

#include "bench/family_util.h"
#include "bench/net_shapes.h"

namespace pmsdsen::bench {
namespace {

constexpr int64_t kIgnore = 255;

// ---- cross-entropy ----------------------------------------------------------------------
// set: logits, target, lse, nll, coef, loss[1], den[1], bad[1] (int64), grad_loss[1], gx
enum { kLogits, kTarget, kLse, kNll, kCoef, kLoss, kDen, kBad, kGradLoss, kGx };

// Labels in [0, K) with one pixel in ten ignored, as a street scene's void regions.
Tensor random_labels(const Shape& shape, int64_t classes, Device d, Generator& gen) {
  std::vector<int64_t> v(static_cast<size_t>(shape_numel(shape)));
  for (int64_t& t : v) t = gen.bernoulli(0.1) ? kIgnore : gen.randint(0, classes - 1);
  return Tensor::from_vector(v, shape, d);
}

// The forward kernels: lse, nll, coef, and the loss and its denominator.
void ce_forward(const Tensors& t) {
  const Tensor& x = t[kLogits];
  const int64_t N = x.size(0), K = x.size(1), S = x.size(2) * x.size(3);
  const int64_t* target = t[kTarget].data<int64_t>();
  on_f32(x, [&](auto b) {
    using B = decltype(b);
    B::cross_entropy_pixels(f32(x), target, N, K, S, kIgnore, f32(t[kLse]), f32(t[kNll]), nullptr);
    B::cross_entropy_select(target, f32(t[kNll]), nullptr, nullptr, N * S, K, kIgnore, false, nullptr, f32(t[kCoef]),
                            f32(t[kLoss]), f32(t[kDen]), t[kBad].data<int64_t>());
  });
}

void ce_backward(const Tensors& t) {
  const Tensor& x = t[kLogits];
  const int64_t N = x.size(0), K = x.size(1), S = x.size(2) * x.size(3);
  on_f32(x, [&](auto b) {
    decltype(b)::cross_entropy_backward(f32(x), t[kTarget].data<int64_t>(), f32(t[kLse]), f32(t[kCoef]),
                                        f32(t[kGradLoss]), f32(t[kDen]), f32(t[kGx]), N, K, S);
  });
}

void cross_entropy(const NetConfig& config, std::vector<KernelBench>& out) {
  const NetShapes n = net_shapes(config);
  const Shape ls = {n.n, n.classes, n.h, n.w}, ps = {n.n, n.h, n.w};
  const double bl = f32_bytes(ls), bt = 8.0 * static_cast<double>(shape_numel(ps));
  const std::string detail = str("logits", dims(ls), " target", dims(ps), " int64, ignore 255");
  const std::string where = "loss on one output (x3 per step)";
  const int64_t classes = n.classes;
  auto make = [ls, ps, classes](bool backward) {
    return [ls, ps, classes, backward](Device d, Generator& gen) {
      Tensors t = {random_f32(ls, d, gen, -3, 3),
                   random_labels(ps, classes, d, gen),
                   empty_f32(ps, d),
                   empty_f32(ps, d),
                   empty_f32(ps, d),
                   empty_f32({1}, d),
                   empty_f32({1}, d),
                   Tensor::zeros({1}, DType::I64, d),
                   Tensor::full({1}, 1.0, DType::F32, d),
                   backward ? empty_f32(ls, d) : Tensor()};
      if (backward) ce_forward(t);  // lse, coef and den as the forward leaves them
      return t;
    };
  };
  {
    KernelBench b = bench_named("cross_entropy.fwd", "cross_entropy", "cross-entropy", "forward", where, ls, detail);
    b.bytes = bl + bt;
    b.make = make(false);
    b.outputs = {kLse, kNll, kCoef, kLoss};
    b.ours = per_set(ce_forward);
    b.no_baseline = "cuDNN has no cross-entropy";
    out.push_back(std::move(b));
  }
  {
    KernelBench b = bench_named("cross_entropy.bwd", "cross_entropy", "cross-entropy", "backward", where, ls, detail);
    b.bytes = 2 * bl + bt;
    b.make = make(true);
    b.outputs = {kGx};
    b.ours = per_set(ce_backward);
    b.no_baseline = "cuDNN has no cross-entropy";
    out.push_back(std::move(b));
  }
}

}  // namespace

PMSDSEN_BENCH_FAMILY(90, cross_entropy);

}  // namespace pmsdsen::bench
