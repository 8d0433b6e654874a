// Batch norm (training forward and backward), GELU and PReLU (forward and backward) at
// the width of each stage. cuDNN: batch norm; for GELU swish stands in (cuDNN has no
// GELU); PReLU has no cuDNN counterpart.
#include <string>

#include "bench/cudnn_baselines.h"
#include "bench/family_util.h"
#include "bench/net_shapes.h"

namespace pmsdsen::bench {
namespace {

constexpr double kMomentum = 0.1, kEps = 1e-5;

struct Map {
  std::string where;
  Shape shape;  // N, C, H, W
};

std::vector<Map> stage_maps(const NetConfig& config) {
  const NetShapes n = net_shapes(config);
  return {{"stage 1 (H/2)", {n.n, n.s1.channels, n.s1.h, n.s1.w}},
          {"stage 2 (H/4)", {n.n, n.s2.channels, n.s2.h, n.s2.w}},
          {"stage 3 (H/8)", {n.n, n.s3.channels, n.s3.h, n.s3.w}}};
}

// ---- batch norm ---------------------------------------------------------------------
// forward set: x, weight, bias, running_mean, running_var, mean, invstd, scale, shift, y
// backward set: x, gy, mean, invstd, weight, gx, gweight, gbias

void bn_train_stats(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& rm, const Tensor& rv,
                    const Tensor& mean, const Tensor& invstd, const Tensor& scale, const Tensor& shift) {
  const int64_t N = x.size(0), C = x.size(1), S = x.size(2) * x.size(3);
  float* prm = rm.defined() ? f32(rm) : nullptr;
  float* prv = rv.defined() ? f32(rv) : nullptr;
  on_f32(x, [&](auto k) { decltype(k)::batch_norm_train_stats(f32(x), N, C, S, f32(w), f32(b), prm, prv, kMomentum, kEps, f32(mean), f32(invstd), f32(scale), f32(shift)); });
}

void add_batch_norm(const Map& m, std::vector<KernelBench>& out) {
  const Shape xs = m.shape;
  const int64_t C = xs[1];
  const Shape cs = {C};
  const double bx = f32_bytes(xs), bc = f32_bytes(cs);
  const std::string detail = str("x", dims(xs), " eps 1e-5 momentum 0.1");
  {
    KernelBench b = bench_named("batchnorm_train.fwd", "batch norm (training)", "forward", m.where, xs, detail);
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
      on_f32(t[0], [&](auto k) { decltype(k)::batch_norm_apply(f32(t[0]), f32(t[7]), f32(t[8]), f32(t[9]), N, C, S); });
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
    KernelBench b = bench_named("batchnorm_train.bwd", "batch norm (training)", "backward", m.where, xs, detail);
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
      on_f32(t[0], [&](auto k) { decltype(k)::batch_norm_backward(f32(t[1]), f32(t[0]), f32(t[2]), f32(t[3]), f32(t[4]), N, C, S, true, f32(t[5]), f32(t[6]), f32(t[7])); });
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

// ---- GELU ---------------------------------------------------------------------------
// forward set: x, y; backward set: x, gy, gx (+ y on CUDA, read by cuDNN's swish backward)

void add_gelu(const Map& m, std::vector<KernelBench>& out) {
  const Shape xs = m.shape;
  const double bx = f32_bytes(xs);
  const std::string detail = str("x", dims(xs), " exact (erf)");
  {
    KernelBench b = bench_named("gelu.fwd", "GELU", "forward", m.where, xs, detail);
    b.bytes = 2 * bx;
    b.make = [xs](Device d, Generator& gen) { return Tensors{random_f32(xs, d, gen, -4, 4), empty_f32(xs, d)}; };
    b.outputs = {1};
    b.ours = per_set([](const Tensors& t) {
      on_f32(t[0], [&](auto k) { decltype(k)::gelu_forward(f32(t[0]), f32(t[1]), t[0].numel()); });
    });
#ifdef PMSDSEN_WITH_CUDNN
    b.baseline = [](const SharedBuffers& buf) { return cudnn_swish_stand_in(buf, false, 0, 1, -1, -1); };
#endif
    out.push_back(std::move(b));
  }
  {
    KernelBench b = bench_named("gelu.bwd", "GELU", "backward", m.where, xs, detail);
    b.bytes = 3 * bx;
    b.make = [xs](Device d, Generator& gen) {
      Tensors t = {random_f32(xs, d, gen, -4, 4), random_f32(xs, d, gen), empty_f32(xs, d)};
      if (d.is_cuda()) t.push_back(random_f32(xs, d, gen));
      return t;
    };
    b.outputs = {2};
    b.ours = per_set([](const Tensors& t) {
      on_f32(t[0], [&](auto k) { decltype(k)::gelu_backward(f32(t[1]), f32(t[0]), f32(t[2]), t[0].numel()); });
    });
#ifdef PMSDSEN_WITH_CUDNN
    b.baseline = [](const SharedBuffers& buf) { return cudnn_swish_stand_in(buf, true, 0, 3, 1, 2); };
#endif
    out.push_back(std::move(b));
  }
}

// ---- PReLU (one slope per channel) ------------------------------------------------------
// forward set: x, slope, y; backward set: x, gy, slope, gx, gslope

void add_prelu(const Map& m, std::vector<KernelBench>& out) {
  const Shape xs = m.shape;
  const int64_t C = xs[1];
  const double bx = f32_bytes(xs), bc = 4.0 * static_cast<double>(C);
  const std::string detail = str("x", dims(xs), " slope[", C, "]");
  const std::string none = "cuDNN has no PReLU (a learned slope per channel)";
  {
    KernelBench b = bench_named("prelu.fwd", "PReLU", "forward", m.where, xs, detail);
    b.bytes = 2 * bx + bc;
    b.make = [xs, C](Device d, Generator& gen) {
      return Tensors{random_f32(xs, d, gen), random_f32({C}, d, gen, 0.1, 0.4), empty_f32(xs, d)};
    };
    b.outputs = {2};
    b.ours = per_set([](const Tensors& t) {
      const int64_t N = t[0].size(0), C = t[0].size(1), S = t[0].size(2) * t[0].size(3);
      on_f32(t[0], [&](auto k) { decltype(k)::prelu_forward(f32(t[0]), f32(t[1]), C, f32(t[2]), N, C, S); });
    });
    b.no_baseline = none;
    out.push_back(std::move(b));
  }
  {
    KernelBench b = bench_named("prelu.bwd", "PReLU", "backward", m.where, xs, detail);
    b.bytes = 3 * bx + 2 * bc;
    b.make = [xs, C](Device d, Generator& gen) {
      return Tensors{random_f32(xs, d, gen), random_f32(xs, d, gen), random_f32({C}, d, gen, 0.1, 0.4),
                     empty_f32(xs, d), empty_f32({C}, d)};
    };
    b.outputs = {3, 4};
    b.ours = per_set([](const Tensors& t) {
      const int64_t N = t[0].size(0), C = t[0].size(1), S = t[0].size(2) * t[0].size(3);
      on_f32(t[0], [&](auto k) { decltype(k)::prelu_backward(f32(t[1]), f32(t[0]), f32(t[2]), C, f32(t[3]), f32(t[4]), N, C, S); });
    });
    b.no_baseline = none;
    out.push_back(std::move(b));
  }
}

void batch_norms(const NetConfig& config, std::vector<KernelBench>& out) {
  for (const Map& m : stage_maps(config)) add_batch_norm(m, out);
}

void activations(const NetConfig& config, std::vector<KernelBench>& out) {
  for (const Map& m : stage_maps(config)) add_gelu(m, out);
  for (const Map& m : stage_maps(config)) add_prelu(m, out);
}

}  // namespace

PMSDSEN_BENCH_FAMILY(50, batch_norms);
PMSDSEN_BENCH_FAMILY(60, activations);

}  // namespace pmsdsen::bench
