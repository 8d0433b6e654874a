// Average, max and global average pooling, forward and backward, at the shapes of the
// input injection and ECA. Baseline: cuDNN's pooling.
#include <string>

#include "bench/cudnn_baselines.h"
#include "bench/family_util.h"
#include "bench/net_shapes.h"

namespace pmsdsen::bench {
namespace {

int to_int(int64_t v) { return static_cast<int>(v); }

// ---- pooling --------------------------------------------------------------------------

enum class Pool { Avg, Max, Global };

const char* pool_op(Pool kind) {
  return kind == Pool::Avg ? "avg_pool2d" : kind == Pool::Max ? "max_pool2d" : "global_avg_pool";
}

struct PoolCase {
  std::string name, where;
  Pool kind;
  Shape in;
  int64_t k = 1, s = 1, p = 0;
  bool backward = true;  // false where the input needs no gradient (the image)
};

Shape pool_out(const PoolCase& c) {
  if (c.kind == Pool::Global) return {c.in[0], c.in[1], 1, 1};
  return {c.in[0], c.in[1], (c.in[2] + 2 * c.p - c.k) / c.s + 1, (c.in[3] + 2 * c.p - c.k) / c.s + 1};
}

struct PoolGeom {
  int64_t planes;
  int H, W, OH, OW, k, s, p;
};

PoolGeom geom(const PoolCase& c) {
  const Shape o = pool_out(c);
  return {c.in[0] * c.in[1], to_int(c.in[2]), to_int(c.in[3]), to_int(o[2]), to_int(o[3]),
          to_int(c.k), to_int(c.s), to_int(c.p)};
}

void pool_forward(Pool kind, const PoolGeom& g, const Tensor& x, const Tensor& y, const Tensor& index) {
  on_f32(x, [&](auto b) {
    using B = decltype(b);
    switch (kind) {
      case Pool::Avg: B::avg_pool2d_forward(f32(x), f32(y), g.planes, g.H, g.W, g.OH, g.OW, g.k, g.s, g.p); break;
      case Pool::Max:
        B::max_pool2d_forward(f32(x), f32(y), index.data<int32_t>(), g.planes, g.H, g.W, g.OH, g.OW, g.k, g.s, g.p);
        break;
      case Pool::Global: B::global_avg_pool_forward(f32(x), f32(y), g.planes, int64_t(g.H) * g.W); break;
    }
  });
}

void pool_backward(Pool kind, const PoolGeom& g, const Tensor& gy, const Tensor& index, const Tensor& gx) {
  on_f32(gy, [&](auto b) {
    using B = decltype(b);
    switch (kind) {
      case Pool::Avg: B::avg_pool2d_backward(f32(gy), f32(gx), g.planes, g.H, g.W, g.OH, g.OW, g.k, g.s, g.p); break;
      case Pool::Max:
        B::max_pool2d_backward(f32(gy), index.data<int32_t>(), f32(gx), g.planes, g.H, g.W, g.OH, g.OW, g.k, g.s,
                               g.p);
        break;
      case Pool::Global: B::global_avg_pool_backward(f32(gy), f32(gx), g.planes, int64_t(g.H) * g.W); break;
    }
  });
}

[[maybe_unused]] Baseline pool_baseline(const PoolCase& c, const SharedBuffers& buf, bool backward, PoolSlots s) {
#ifdef PMSDSEN_WITH_CUDNN
  if (c.kind == Pool::Global) return cudnn_global_avg_pool(buf, backward, s);
  return cudnn_pool(buf, c.kind == Pool::Avg ? PoolKind::Average : PoolKind::Max, c.k, c.s, c.p, backward, s);
#else
  (void)c, (void)buf, (void)backward, (void)s;
  PMSDSEN_FAIL("bench: no cuDNN in this build");
#endif
}

void add_pool(const PoolCase& c, std::vector<KernelBench>& out) {
  const Shape in = c.in, os = pool_out(c);
  const PoolGeom g = geom(c);
  const Pool kind = c.kind;
  const bool max = kind == Pool::Max;
  const double bx = f32_bytes(in), by = f32_bytes(os), bi = max ? f32_bytes(os) : 0.0;  // int32 index
  const std::string detail =
      kind == Pool::Global ? str("x", dims(in), " -> ", dims(os))
                           : str("x", dims(in), " -> ", dims(os), " k", c.k, " s", c.s, " p", c.p,
                                 max ? "" : " count_include_pad");
  {
    // set: x, y, index (max only)
    KernelBench b = bench_named(c.name + ".fwd", pool_op(kind), "pooling", "forward", c.where, in, detail);
    b.bytes = bx + by;  // the index our max pooling also writes is not part of the floor
    b.make = [in, os, max](Device d, Generator& gen) {
      Tensors t = {random_f32(in, d, gen), empty_f32(os, d)};
      if (max) t.push_back(Tensor::empty(os, DType::I32, d));
      return t;
    };
    b.outputs = max ? std::vector<int>{1, 2} : std::vector<int>{1};
    b.ours = per_set([kind, g](const Tensors& t) {
      pool_forward(kind, g, t[0], t[1], kind == Pool::Max ? t[2] : Tensor());
    });
#ifdef PMSDSEN_WITH_CUDNN
    b.baseline = [c](const SharedBuffers& buf) {
      PoolSlots s;
      s.x = 0, s.y = 1;
      return pool_baseline(c, buf, false, s);
    };
#endif
    out.push_back(std::move(b));
  }
  if (c.backward) {
    // set: gy, gx, index (max; else an empty slot), x and y (for cuDNN, CUDA only)
    KernelBench b = bench_named(c.name + ".bwd", pool_op(kind), "pooling", "backward", c.where, in, detail);
    b.bytes = by + bi + bx;
    b.make = [in, os, max, kind, g](Device d, Generator& gen) {
      Tensors t = {random_f32(os, d, gen), empty_f32(in, d), Tensor()};
      if (max || d.is_cuda()) {
        // x and the forward's y (and index): what cuDNN's backward reads, and ours for max.
        Tensor x = random_f32(in, d, gen), y = empty_f32(os, d);
        Tensor index = max ? Tensor::empty(os, DType::I32, d) : Tensor();
        pool_forward(kind, g, x, y, index);
        t[2] = index;
        t.push_back(x);
        t.push_back(y);
      }
      return t;
    };
    b.outputs = {1};
    b.ours = per_set([kind, g](const Tensors& t) { pool_backward(kind, g, t[0], t[2], t[1]); });
#ifdef PMSDSEN_WITH_CUDNN
    b.baseline = [c](const SharedBuffers& buf) {
      PoolSlots s;
      s.gy = 0, s.gx = 1, s.x = 3, s.y = 4;
      return pool_baseline(c, buf, true, s);
    };
#endif
    out.push_back(std::move(b));
  }
}

void pools(const NetConfig& config, std::vector<KernelBench>& out) {
  const NetShapes n = net_shapes(config);
  const Shape image = {n.n, 3, n.h, n.w};
  const Shape l1 = {n.n, n.s1.channels, n.s1.h, n.s1.w};
  const Shape l3 = {n.n, n.s3.channels, n.s3.h, n.s3.w};
  add_pool({"avgpool3x3_s2", "input injection (image -> H/2)", Pool::Avg, image, 3, 2, 1, false}, out);
  add_pool({"maxpool3x3_s2", "input injection (image -> H/2)", Pool::Max, image, 3, 2, 1, false}, out);
  add_pool({"avgpool2x2_s2", "down2 widening (H/2 -> H/4)", Pool::Avg, l1, 2, 2, 0}, out);
  add_pool({"maxpool2x2_s2", "down2 widening (H/2 -> H/4)", Pool::Max, l1, 2, 2, 0}, out);
  add_pool({"avgpool17_s8", "MSSE x3 (H/8 -> H/64)", Pool::Avg, l3, 17, 8, 8}, out);
  add_pool({"global_avgpool", "ECA, stage 1 (H/2)", Pool::Global, l1}, out);
}

}  // namespace

PMSDSEN_BENCH_FAMILY(80, pools);

}  // namespace pmsdsen::bench
