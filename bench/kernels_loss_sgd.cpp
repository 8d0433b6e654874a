// The cross-entropy (forward, backward) over full-resolution logits and the fused SGD
// step over all of PMSDSEN's parameters. cuDNN has neither.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "bench/family_util.h"
#include "bench/net_shapes.h"
#include "core/cpu/loss.h"
#include "core/cpu/optim.h"
#include "models/pmsdsen.h"

#ifdef PMSDSEN_WITH_CUDA
#include "cuda/loss.h"
#include "cuda/optim.h"
#endif

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
  if (x.is_cuda()) {
    PMSDSEN_BENCH_CUDA({
      cuda::cross_entropy_pixels(f32(x), target, N, K, S, kIgnore, f32(t[kLse]), f32(t[kNll]), nullptr);
      cuda::cross_entropy_select(target, f32(t[kNll]), nullptr, nullptr, N * S, K, kIgnore, false, nullptr,
                                 f32(t[kCoef]), f32(t[kLoss]), f32(t[kDen]), t[kBad].data<int64_t>());
    });
  } else {
    const int64_t bad =
        cpu::cross_entropy_pixels<float>(f32(x), target, N, K, S, kIgnore, f32(t[kLse]), f32(t[kNll]), nullptr);
    PMSDSEN_CHECK(bad == 0, "bench cross_entropy: ", bad, " bad targets");
    double num = 0.0, den = 0.0;
    cpu::cross_entropy_select<float>(target, f32(t[kNll]), nullptr, nullptr, N * S, K, kIgnore, false, 0.0f,
                                     f32(t[kCoef]), &num, &den);
    f32(t[kLoss])[0] = static_cast<float>(den > 0 ? num / den : 0.0);
    f32(t[kDen])[0] = static_cast<float>(den);
  }
}

void ce_backward(const Tensors& t) {
  const Tensor& x = t[kLogits];
  const int64_t N = x.size(0), K = x.size(1), S = x.size(2) * x.size(3);
  const int64_t* target = t[kTarget].data<int64_t>();
  if (x.is_cuda()) {
    PMSDSEN_BENCH_CUDA(cuda::cross_entropy_backward(f32(x), target, f32(t[kLse]), f32(t[kCoef]), f32(t[kGradLoss]),
                                                    f32(t[kDen]), f32(t[kGx]), N, K, S));
  } else {
    const float den = f32(t[kDen])[0];
    const float scale = den > 0 ? f32(t[kGradLoss])[0] / den : 0.0f;
    cpu::cross_entropy_backward<float>(f32(x), target, f32(t[kLse]), f32(t[kCoef]), scale, f32(t[kGx]), N, K, S);
  }
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

std::function<RunFn(const SharedBuffers&)> sgd_runner() {
  return [](const SharedBuffers& buffers) -> RunFn {
    const int64_t sets = buffers->sets();
    const bool cuda = buffers->set(0)[0].is_cuda();
    // One optimiser per set: as in training, each sees the same tensors every step, so
    // the fused kernel's table is uploaded once per set and then reused.
    struct State {
      std::vector<std::vector<cpu::SgdSlot<float>>> cpu_slots;
#ifdef PMSDSEN_WITH_CUDA
      std::vector<std::vector<cuda::SgdSlot>> gpu_slots;
      std::vector<std::unique_ptr<cuda::FusedSgd>> fused;
#endif
    };
    auto st = std::make_shared<State>();
    for (int64_t s = 0; s < sets; ++s) {
      const Tensors& t = buffers->set(s);
      std::vector<cpu::SgdSlot<float>> cs;
#ifdef PMSDSEN_WITH_CUDA
      std::vector<cuda::SgdSlot> gs;
#endif
      for (size_t i = 0; i + 2 < t.size(); i += 3) {
        if (cuda) {
          PMSDSEN_BENCH_CUDA(gs.push_back({f32(t[i]), f32(t[i + 1]), f32(t[i + 2]), t[i].numel(), 0}));
        } else {
          cs.push_back({f32(t[i]), f32(t[i + 1]), f32(t[i + 2]), t[i].numel(), false});
        }
      }
      st->cpu_slots.push_back(std::move(cs));
#ifdef PMSDSEN_WITH_CUDA
      st->gpu_slots.push_back(std::move(gs));
      st->fused.push_back(cuda ? std::make_unique<cuda::FusedSgd>() : nullptr);
#endif
    }
    return [buffers, st, sets, cuda](int64_t set) {
      const size_t s = static_cast<size_t>(set % sets);
      if (cuda) {
        PMSDSEN_BENCH_CUDA(st->fused[s]->step(st->gpu_slots[s], kLr, kMomentum, kWeightDecay));
      } else {
        const auto& slots = st->cpu_slots[s];
        cpu::sgd_step<float>(slots.data(), static_cast<int64_t>(slots.size()), kLr, kMomentum, kWeightDecay);
      }
    };
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
