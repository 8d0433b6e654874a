// Bilinear resizing (align_corners=False, to a size), forward and backward, at the
// shapes of the decoder and MSSE. cuDNN has none.
#include <string>

#include "bench/family_util.h"
#include "bench/net_shapes.h"
#include "core/resize_math.h"

namespace pmsdsen::bench {
namespace {

int to_int(int64_t v) { return static_cast<int>(v); }

// ---- bilinear (align_corners=False, output size given) ---------------------------------
// forward set: x, y; backward set: gy, gx

struct Resize {
  std::string where;
  Shape in;  // N, C, H, W
  int64_t oh, ow;
};

void bilinear(const Shape& in, int64_t oh, int64_t ow, const Tensor& src, const Tensor& dst, bool backward) {
  const int64_t planes = in[0] * in[1];
  const int H = to_int(in[2]), W = to_int(in[3]), OH = to_int(oh), OW = to_int(ow);
  const float rh = hd::bilinear_ratio<float>(H, OH, false, 0.0), rw = hd::bilinear_ratio<float>(W, OW, false, 0.0);
  on_f32(src, [&](auto b) {
    using B = decltype(b);
    if (backward) B::bilinear_backward(f32(src), f32(dst), planes, H, W, OH, OW, rh, rw, false);
    else B::bilinear_forward(f32(src), f32(dst), planes, H, W, OH, OW, rh, rw, false);
  });
}

void add_resize(const Resize& r, std::vector<KernelBench>& out) {
  const Shape in = r.in, os = {r.in[0], r.in[1], r.oh, r.ow};
  const double bytes = f32_bytes(in) + f32_bytes(os);
  const std::string detail = str("x", dims(in), " -> ", dims(os), " align_corners=False");
  const std::string none = "cuDNN has no bilinear resize";
  const int64_t oh = r.oh, ow = r.ow;
  {
    KernelBench b = bench_named("bilinear.fwd", "bilinear", "bilinear resize", "forward", r.where, in, detail);
    b.bandwidth_bound = true;
    b.bytes = bytes;
    b.make = [in, os](Device d, Generator& gen) { return Tensors{random_f32(in, d, gen), empty_f32(os, d)}; };
    b.outputs = {1};
    b.ours = per_set([in, oh, ow](const Tensors& t) { bilinear(in, oh, ow, t[0], t[1], false); });
    b.no_baseline = none;
    out.push_back(std::move(b));
  }
  {
    KernelBench b = bench_named("bilinear.bwd", "bilinear", "bilinear resize", "backward", r.where, in, detail);
    b.bandwidth_bound = true;
    b.bytes = bytes;
    b.make = [in, os](Device d, Generator& gen) { return Tensors{random_f32(os, d, gen), empty_f32(in, d)}; };
    b.outputs = {1};
    b.ours = per_set([in, oh, ow](const Tensors& t) { bilinear(in, oh, ow, t[0], t[1], true); });
    b.no_baseline = none;
    out.push_back(std::move(b));
  }
}

void resizes(const NetConfig& config, std::vector<KernelBench>& out) {
  const NetShapes n = net_shapes(config);
  add_resize({"seg_head_x2 output (H/2 -> H)", {n.n, n.classes, n.s1.h, n.s1.w}, n.h, n.w}, out);
  add_resize({"seg_head_x8 output (H/8 -> H)", {n.n, n.classes, n.s3.h, n.s3.w}, n.h, n.w}, out);
  add_resize({"MSSE x1 (H/16 -> H/8)", {n.n, n.s3.channels / 2, n.s3.h / 2, n.s3.w / 2}, n.s3.h, n.s3.w}, out);
}

}  // namespace

PMSDSEN_BENCH_FAMILY(70, resizes);

}  // namespace pmsdsen::bench
