// Batch normalisation in training mode, forward and backward, at the width of each
// encoder stage. Baseline: cuDNN's batch norm.
#include <string>

#include "bench/cudnn_baselines.h"
#include "bench/family_util.h"
#include "bench/net_shapes.h"

namespace pmsdsen::bench {
namespace {

constexpr double kMomentum = 0.1, kEps = 1e-5;

// ---- batch norm ---------------------------------------------------------------------
// forward set: x, weight, bias, running_mean, running_var, mean, invstd, scale, shift, y
// backward set: x, gy, mean, invstd, weight, gx, gweight, gbias

void bn_train_stats(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& rm, const Tensor& rv,
                    const Tensor& mean, const Tensor& invstd, const Tensor& scale, const Tensor& shift) {
  const int64_t N = x.size(0), C = x.size(1), S = x.size(2) * x.size(3);
  float* prm = rm.defined() ? f32(rm) : nullptr;
  float* prv = rv.defined() ? f32(rv) : nullptr;
  on_f32(x, [&](auto k) {
    decltype(k)::batch_norm_train_stats(f32(x), N, C, S, f32(w), f32(b), prm, prv, kMomentum, kEps, f32(mean),
                                        f32(invstd), f32(scale), f32(shift));
  });
}

void add_batch_norm(const StageMap& m, std::vector<KernelBench>& out) {
  const Shape xs = m.shape;
  const int64_t C = xs[1];
  const Shape cs = {C};
  const double bx = f32_bytes(xs), bc = f32_bytes(cs);
  const std::string detail = str("x", dims(xs), " eps 1e-5 momentum 0.1");
  {
    KernelBench b = bench_named("batchnorm_train.fwd", "batch_norm", "batch norm (training)", "forward",
                                m.where, xs, detail);
    b.bandwidth_bound = true;  // elementwise: bytes decide
    // x read, y written; weight, bias, running stats read; running stats, mean, invstd written.
    b.bytes = 2 * bx + 8 * bc;
    b.make = [xs, cs](Device d, Generator& gen) {
      return Tensors{random_f32(xs, d, gen, -1, 3),       random_f32(cs, d, gen, 0.5, 1.5),
                     random_f32(cs, d, gen),              random_f32(cs, d, gen),
                     random_f32(cs, d, gen, 0.5, 1.5),    empty_f32(cs, d),
                     empty_f32(cs, d),                    empty_f32(cs, d),
                     empty_f32(cs, d),                    empty_f32(xs, d)};
    };
    b.outputs = {5, 6, 9};
    b.ours = per_set([](const Tensors& t) {
      bn_train_stats(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8]);
      const int64_t N = t[0].size(0), C = t[0].size(1), S = t[0].size(2) * t[0].size(3);
      on_f32(t[0], [&](auto k) {
        decltype(k)::batch_norm_apply(f32(t[0]), f32(t[7]), f32(t[8]), f32(t[9]), N, C, S);
      });
    });
#ifdef PMSDSEN_WITH_CUDNN
    b.baseline = [](const SharedBuffers& buf) {
      BatchNormSlots s;
      s.x = 0, s.weight = 1, s.bias = 2, s.running_mean = 3, s.running_var = 4, s.save_mean = 5,
      s.save_invstd = 6, s.y = 9;
      return cudnn_batch_norm_forward(buf, s, kMomentum, kEps);
    };
#endif
    out.push_back(std::move(b));
  }
  {
    KernelBench b = bench_named("batchnorm_train.bwd", "batch_norm", "batch norm (training)", "backward",
                                m.where, xs, detail);
    b.bandwidth_bound = true;  // elementwise: bytes decide
    b.bytes = 3 * bx + 5 * bc;  // x, gy read, gx written; mean, invstd, weight read; gweight, gbias written
    b.make = [xs, cs](Device d, Generator& gen) {
      Tensors t = {random_f32(xs, d, gen, -1, 3), random_f32(xs, d, gen), empty_f32(cs, d), empty_f32(cs, d),
                   random_f32(cs, d, gen, 0.5, 1.5), empty_f32(xs, d), empty_f32(cs, d), empty_f32(cs, d)};
      // mean and invstd of x, as the forward leaves them (our kernel computes them).
      const Tensor bias = random_f32(cs, d, gen), scale = empty_f32(cs, d), shift = empty_f32(cs, d);
      bn_train_stats(t[0], t[4], bias, Tensor(), Tensor(), t[2], t[3], scale, shift);
      return t;
    };
    b.outputs = {5, 6, 7};
    b.ours = per_set([](const Tensors& t) {
      const int64_t N = t[0].size(0), C = t[0].size(1), S = t[0].size(2) * t[0].size(3);
      on_f32(t[0], [&](auto k) {
        decltype(k)::batch_norm_backward(f32(t[1]), f32(t[0]), f32(t[2]), f32(t[3]), f32(t[4]), N, C, S, true,
                                         f32(t[5]), f32(t[6]), f32(t[7]));
      });
    });
#ifdef PMSDSEN_WITH_CUDNN
    b.baseline = [](const SharedBuffers& buf) {
      BatchNormSlots s;
      s.x = 0, s.gy = 1, s.save_mean = 2, s.save_invstd = 3, s.weight = 4, s.gx = 5, s.gweight = 6, s.gbias = 7;
      return cudnn_batch_norm_backward(buf, s, kEps);
    };
#endif
    out.push_back(std::move(b));
  }
}

void batch_norms(const NetConfig& config, std::vector<KernelBench>& out) {
  for (const StageMap& m : stage_maps(config)) add_batch_norm(m, out);
}

}  // namespace

PMSDSEN_BENCH_FAMILY(50, batch_norms);

}  // namespace pmsdsen::bench
