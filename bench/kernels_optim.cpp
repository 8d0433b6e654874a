// The fused SGD step over all of PMSDSEN's parameters. cuDNN has no optimiser.
#include <memory>
#include <string>
#include <vector>

#include "bench/family_util.h"
#include "models/pmsdsen.h"

namespace pmsdsen::bench {
namespace {

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
      "sgd_fused.step", "sgd", "fused SGD", "step", str("all ", shapes.size(), " parameter tensors"), {total},
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

PMSDSEN_BENCH_FAMILY(100, sgd);

}  // namespace pmsdsen::bench
