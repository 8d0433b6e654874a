// The cross-entropy (forward, backward) over full-resolution logits and the fused SGD
// step over all of PMSDSEN's parameters. cuDNN has neither.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "bench/family_util.h"
#include "bench/net_shapes.h"
#include "models/pmsdsen.h"

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
    KernelBench b = bench_named("cross_entropy.fwd", "cross-entropy", "forward", where, ls, detail);
    b.bytes = bl + bt;
    b.make = make(false);
    b.outputs = {kLse, kNll, kCoef, kLoss};
    b.ours = per_set(ce_forward);
    b.no_baseline = "cuDNN has no cross-entropy";
    out.push_back(std::move(b));
  }
  {
    KernelBench b = bench_named("cross_entropy.bwd", "cross-entropy", "backward", where, ls, detail);
    b.bytes = 2 * bl + bt;
    b.make = make(true);
    b.outputs = {kGx};
    b.ours = per_set(ce_backward);
    b.no_baseline = "cuDNN has no cross-entropy";
    out.push_back(std::move(b));
  }
}

// ---- fused SGD --------------------------------------------------------------------------
// set: for each parameter p_i, its gradient g_i and momentum buffer buf_i: 3 tensors each

const std::vector<Shape>& parameter_shapes() {
  static const std::vector<Shape> shapes = [] {
    std::vector<Shape> s;
    for (const Tensor& p : PMSDSEN(PmsdsenConfig{}).parameters()) s.push_back(p.shape());
    return s;
  }();
  return shapes;
}

constexpr double kLr = 1e-3, kMomentum = 0.9, kWeightDecay = 1e-4;

// One optimiser per set: as in training, each sees the same tensors every step, so the
// fused CUDA kernel's table is uploaded once per set and then reused.
template <class B>
RunFn sgd_sets(const SharedBuffers& buffers) {
  struct Set {
    std::vector<typename B::SgdSlot> slots;
    std::shared_ptr<typename B::SgdRunner> runner = std::make_shared<typename B::SgdRunner>();
  };
  const int64_t sets = buffers->sets();
  auto st = std::make_shared<std::vector<Set>>(static_cast<size_t>(sets));
  for (int64_t s = 0; s < sets; ++s) {
    const Tensors& t = buffers->set(s);
    for (size_t i = 0; i + 2 < t.size(); i += 3)
      (*st)[s].slots.push_back(B::sgd_slot(f32(t[i]), f32(t[i + 1]), f32(t[i + 2]), t[i].numel(), false));
  }
  return [buffers, st, sets](int64_t set) {
    Set& s = (*st)[static_cast<size_t>(set % sets)];
    s.runner->step(s.slots, kLr, kMomentum, kWeightDecay);
  };
}

std::function<RunFn(const SharedBuffers&)> sgd_runner() {
  return [](const SharedBuffers& buffers) -> RunFn {
    return on_f32(buffers->set(0)[0], [&](auto b) { return sgd_sets<decltype(b)>(buffers); });
  };
}

void sgd(const NetConfig&, std::vector<KernelBench>& out) {
  const std::vector<Shape>& shapes = parameter_shapes();
  int64_t total = 0;
  for (const Shape& s : shapes) total += shape_numel(s);
  KernelBench b = bench_named(
      "sgd_fused.step", "fused SGD", "step", str("all ", shapes.size(), " parameter tensors"), {total},
      str(total, " parameters in ", shapes.size(), " tensors; momentum 0.9, weight decay 1e-4"));
  b.bytes = 5.0 * 4.0 * static_cast<double>(total);  // p, g, buf read; p, buf written
  b.make = [](Device d, Generator& gen) {
    Tensors t;
    for (const Shape& s : parameter_shapes()) {
      t.push_back(random_f32(s, d, gen));
      t.push_back(random_f32(s, d, gen, -1e-2, 1e-2));
      t.push_back(random_f32(s, d, gen, -1e-2, 1e-2));
    }
    return t;
  };
  b.ours = sgd_runner();
  b.no_baseline = "cuDNN has no optimiser";
  out.push_back(std::move(b));
}

}  // namespace

PMSDSEN_BENCH_FAMILY(90, cross_entropy);
PMSDSEN_BENCH_FAMILY(100, sgd);

}  // namespace pmsdsen::bench
