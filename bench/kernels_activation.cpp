// GELU and PReLU, forward and backward, at the width of each encoder stage. cuDNN has no
// GELU (swish stands in) and no PReLU.
#include <string>

#include "bench/cudnn_baselines.h"
#include "bench/family_util.h"
#include "bench/net_shapes.h"

namespace pmsdsen::bench {
namespace {

// ---- GELU ---------------------------------------------------------------------------
// forward set: x, y; backward set: x, gy, gx (+ y on CUDA, read by cuDNN's swish backward)

void add_gelu(const StageMap& m, std::vector<KernelBench>& out) {
  const Shape xs = m.shape;
  const double bx = f32_bytes(xs);
  const std::string detail = str("x", dims(xs), " exact (erf)");
  {
    KernelBench b = bench_named("gelu.fwd", "gelu", "GELU", "forward", m.where, xs, detail);
    b.bandwidth_bound = true;  // elementwise: bytes decide
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
    KernelBench b = bench_named("gelu.bwd", "gelu", "GELU", "backward", m.where, xs, detail);
    b.bandwidth_bound = true;  // elementwise: bytes decide
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

void add_prelu(const StageMap& m, std::vector<KernelBench>& out) {
  const Shape xs = m.shape;
  const int64_t C = xs[1];
  const double bx = f32_bytes(xs), bc = 4.0 * static_cast<double>(C);
  const std::string detail = str("x", dims(xs), " slope[", C, "]");
  const std::string none = "cuDNN has no PReLU (a learned slope per channel)";
  {
    KernelBench b = bench_named("prelu.fwd", "prelu", "PReLU", "forward", m.where, xs, detail);
    b.bandwidth_bound = true;  // elementwise: bytes decide
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
    KernelBench b = bench_named("prelu.bwd", "prelu", "PReLU", "backward", m.where, xs, detail);
    b.bandwidth_bound = true;  // elementwise: bytes decide
    b.bytes = 3 * bx + 2 * bc;
    b.make = [xs, C](Device d, Generator& gen) {
      return Tensors{random_f32(xs, d, gen), random_f32(xs, d, gen), random_f32({C}, d, gen, 0.1, 0.4),
                     empty_f32(xs, d), empty_f32({C}, d)};
    };
    b.outputs = {3, 4};
    b.ours = per_set([](const Tensors& t) {
      const int64_t N = t[0].size(0), C = t[0].size(1), S = t[0].size(2) * t[0].size(3);
      on_f32(t[0], [&](auto k) {
        decltype(k)::prelu_backward(f32(t[1]), f32(t[0]), f32(t[2]), C, f32(t[3]), f32(t[4]), N, C, S);
      });
    });
    b.no_baseline = none;
    out.push_back(std::move(b));
  }
}

void activations(const NetConfig& config, std::vector<KernelBench>& out) {
  for (const StageMap& m : stage_maps(config)) add_gelu(m, out);
  for (const StageMap& m : stage_maps(config)) add_prelu(m, out);
}

}  // namespace

PMSDSEN_BENCH_FAMILY(60, activations);

}  // namespace pmsdsen::bench
