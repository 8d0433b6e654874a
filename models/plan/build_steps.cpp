// The step helpers of NetBuilder: one per kernel kind, each choosing its tiling and
// wrapping the kernel and its epilogue into a Program step.
#include <algorithm>
#include <cmath>

#include "core/activation_math.h"
#include "core/resize_math.h"
#include "models/plan/builder.h"

namespace pmsdsen::plan {

using nhwc::EpOp;

// ---- epilogues --------------------------------------------------------------------------

SumSeg Epi::new_sums(int64_t m, int64_t c0) {
  SumSeg s;
  s.buf = b_.small("sums", b_.batch() * tiles_ * m);
  s.part = b_.ptr(s.buf);
  s.tiles = tiles_;
  s.c0 = c0;
  s.m = m;
  uses.push_back(s.buf);
  return s;
}

Epi& Epi::bias(int c0, int c1, const float* a) {
  EpOp op{EpOp::Bias};
  op.c0 = c0, op.c1 = c1, op.a = a;
  ops.push_back(op);
  return *this;
}

Epi& Epi::affine(int c0, int c1, const AffineWeights& bn, int64_t first) {
  EpOp op{EpOp::Affine};
  op.c0 = c0, op.c1 = c1, op.a = bn.scale.data() + first, op.b = bn.shift.data() + first;
  ops.push_back(op);
  return *this;
}

Epi& Epi::act(int c0, int c1, nhwc::Act a, int64_t first) {
  if (a.kind == nhwc::Act::None) return *this;
  if (a.slopes) a.slopes += first;
  EpOp op{EpOp::Activate};
  op.c0 = c0, op.c1 = c1, op.act = a;
  ops.push_back(op);
  return *this;
}

Epi& Epi::nc_op(EpOp::Kind kind, int c0, int c1, int nc_buf, int64_t nc_stride, int64_t first) {
  EpOp op{kind};
  op.c0 = c0, op.c1 = c1, op.nc = b_.ptr(nc_buf) + first, op.nc_stride = nc_stride;
  uses.push_back(nc_buf);
  ops.push_back(op);
  return *this;
}

Epi& Epi::scale_nc(int c0, int c1, int nc_buf, int64_t nc_stride, int64_t first) {
  return nc_op(EpOp::ScaleNC, c0, c1, nc_buf, nc_stride, first);
}

Epi& Epi::add_nc(int c0, int c1, int nc_buf, int64_t nc_stride, int64_t first) {
  return nc_op(EpOp::AddNC, c0, c1, nc_buf, nc_stride, first);
}

Epi& Epi::add(int c0, const Map& src, int nc_buf, int64_t nc_stride, int64_t first) {
  EpOp op{EpOp::AddView};
  op.c0 = c0, op.c1 = c0 + static_cast<int>(src.ch), op.view = b_.view(src);
  uses.push_back(src.buf);
  if (nc_buf >= 0) {
    op.nc = b_.ptr(nc_buf) + first, op.nc_stride = nc_stride;
    uses.push_back(nc_buf);
  }
  ops.push_back(op);
  return *this;
}

Epi& Epi::add_resized(int c0, const Map& small) {
  EpOp op{EpOp::AddResized};
  op.c0 = c0, op.c1 = c0 + static_cast<int>(small.ch), op.src = b_.cview(small);
  op.src_h = static_cast<int>(small.h), op.src_w = static_cast<int>(small.w);
  uses.push_back(small.buf);
  ops.push_back(op);
  return *this;
}

void set_resize_ratios(EpOp& op, int64_t out_h, int64_t out_w) {
  op.ratio_h = hd::bilinear_ratio<float>(op.src_h, static_cast<int>(out_h), false, 0.0);
  op.ratio_w = hd::bilinear_ratio<float>(op.src_w, static_cast<int>(out_w), false, 0.0);
}

Epi& Epi::store(int c0, const Map& dst) {
  EpOp op{EpOp::Store};
  op.c0 = c0, op.c1 = c0 + static_cast<int>(dst.ch), op.view = b_.view(dst);
  uses.push_back(dst.buf);
  ops.push_back(op);
  return *this;
}

Epi& Epi::store_mapped(int c0, const Map& dst, const AffineWeights* bn, nhwc::Act a, int64_t first, Sums* sums) {
  EpOp op{EpOp::StoreMapped};
  op.c0 = c0, op.c1 = c0 + static_cast<int>(dst.ch), op.view = b_.view(dst);
  if (bn) op.a = bn->scale.data() + first, op.b = bn->shift.data() + first;
  if (a.slopes) a.slopes += first;
  op.act = a;
  uses.push_back(dst.buf);
  if (sums) {
    const SumSeg s = new_sums(dst.ch, dst.off);
    op.sums = b_.ptr(s.buf), op.sums_stride = dst.ch;
    sums->push_back(s);
  }
  ops.push_back(op);
  return *this;
}

Epi& Epi::sum(int c0, int c1, Sums& sums, int64_t channel_offset) {
  const SumSeg s = new_sums(c1 - c0, channel_offset);
  EpOp op{EpOp::Sum};
  op.c0 = c0, op.c1 = c1, op.sums = b_.ptr(s.buf), op.sums_stride = c1 - c0;
  sums.push_back(s);
  ops.push_back(op);
  return *this;
}

Epi& Epi::store_nchw(int c0, int c1, int buf, int64_t plane) {
  EpOp op{EpOp::StoreNCHW};
  op.c0 = c0, op.c1 = c1, op.view.base = b_.ptr(buf), op.view.sample = (c1 - c0) * plane, op.plane = plane;
  uses.push_back(buf);
  ops.push_back(op);
  return *this;
}

// ---- tensors ----------------------------------------------------------------------------

NetBuilder::NetBuilder(ProgramBuilder& pb, PlanWeights& w, int64_t batch, int64_t height, int64_t width, bool heads,
                       PlanIo* io)
    : pb_(pb), w_(w), N_(batch), H_(height), W_(width), heads_(heads), io_(io) {}

Map NetBuilder::map(const std::string& name, int64_t ch, int64_t h, int64_t w) {
  Map m;
  m.buf = pb_.buffer(name, N_ * ch * h * w);
  m.ch = m.stride = ch;
  m.h = h;
  m.w = w;
  return m;
}

int NetBuilder::small(const std::string& name, int64_t floats) { return pb_.buffer(name, floats); }

nhwc::View NetBuilder::view(const Map& m) const {
  return nhwc::View{ptr(m.buf) + m.off, m.stride * m.h * m.w, m.stride};
}

nhwc::ConstView NetBuilder::cview(const Map& m) const {
  return nhwc::ConstView{ptr(m.buf) + m.off, m.stride * m.h * m.w, m.stride, m.ch};
}

std::vector<int> NetBuilder::uses_of(const Sums& sums) const {
  std::vector<int> u;
  for (const SumSeg& s : sums) u.push_back(s.buf);
  return u;
}

void channel_means(const Sums& sums, int64_t batch, int64_t channels, int64_t pixels, float* out) {
  for (const SumSeg& s : sums) {
    const float* part = s.part;
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t c = 0; c < s.m; ++c) {
        double acc = 0.0;
        for (int64_t t = 0; t < s.tiles; ++t) acc += part[(n * s.tiles + t) * s.m + c];
        out[n * channels + s.c0 + c] = static_cast<float>(acc / static_cast<double>(pixels));
      }
  }
}

void linear_means(const ConvWeights& w, const float* m, int64_t batch, float* z) {
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t co = 0; co < w.cout; ++co) {
      double acc = w.bias[co];
      for (int64_t k = 0; k < w.K; ++k) acc += double(w.plain[co * w.K + k]) * m[n * w.K + k];
      z[n * w.cout + co] = static_cast<float>(acc);
    }
}

void eca_scale(const float* mean, const std::vector<float>& k, int64_t batch, int64_t channels, float add, float* s) {
  const int64_t K = static_cast<int64_t>(k.size()), pad = (K - 1) / 2;
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c) {
      float acc = 0.0f;
      for (int64_t t = 0; t < K; ++t) {
        const int64_t src = c - pad + t;
        if (src >= 0 && src < channels) acc += k[t] * mean[n * channels + src];
      }
      s[n * channels + c] = add + 1.0f / (1.0f + std::exp(-acc));
    }
}

// ---- steps ------------------------------------------------------------------------------

int64_t NetBuilder::tile_pixels(int cout_pad, int bw) {
  const int nv = bw / nhwc::vector_lanes();
  const int mr = nv == 1 || nv == 2 ? (nhwc::vector_lanes() == 16 ? 12 : nv == 1 ? 8 : 6)
                                    : (nhwc::vector_lanes() == 16 ? (nv == 3 ? 8 : 6) : (nv == 3 ? 4 : 3));
  const int64_t target = std::max<int64_t>(1, 4096 / cout_pad);
  return mr * std::max<int64_t>(1, target / mr);
}

namespace {

std::vector<nhwc::ConstView> cviews(const NetBuilder& b, const std::vector<Map>& in) {
  std::vector<nhwc::ConstView> v;
  for (const Map& m : in) v.push_back(b.cview(m));
  return v;
}

void finish_resize_ops(std::vector<EpOp>& ops, int64_t h, int64_t w) {
  for (EpOp& op : ops)
    if (op.kind == EpOp::AddResized) set_resize_ratios(op, h, w);
}

}  // namespace

void NetBuilder::conv1x1(const std::string& name, const std::vector<Map>& in, const ConvWeights& w, int per_sample_buf,
                         int64_t h, int64_t wd, const EpiFn& fill) {
  int64_t K = 0;
  for (const Map& m : in) K += m.ch;
  PMSDSEN_CHECK(K == w.K && w.taps == 1, "inference plan: ", name, ": ", K, " input channels for a 1x1 of ", w.K);
  const int64_t P = h * wd, T = std::min(P, tile_pixels(w.packed.cout_pad, w.packed.bw));
  const int64_t tps = (P + T - 1) / T;
  Epi epi(*this, tps);
  fill(epi);
  finish_resize_ops(epi.ops, h, wd);
  for (const Map& m : in) epi.uses.push_back(m.buf);
  if (per_sample_buf >= 0) epi.uses.push_back(per_sample_buf);
  const int64_t ld = w.packed.cout_pad;
  pb_.need_scratch(T * ld);
  const std::vector<nhwc::ConstView> views = cviews(*this, in);
  nhwc::Packed packed = w.packed;
  const float* per_sample = per_sample_buf >= 0 ? ptr(per_sample_buf) : nullptr;
  const int64_t elems = packed.elems();
  Program::Step s;
  s.name = name;
  s.kind = "conv1x1";
  s.tiles = N_ * tps;
  s.macs = static_cast<double>(N_ * P * K * w.cout);
  s.body = [views, packed, per_sample, elems, ops = epi.ops, P, T, tps, ld, wd](int64_t t, float* scratch) {
    const int64_t n = t / tps, p0 = (t % tps) * T, len = std::min(T, P - p0);
    nhwc::Packed p = packed;
    if (per_sample) p.data = per_sample + n * elems;
    nhwc::conv1x1_tile(views.data(), static_cast<int>(views.size()), p, n, p0, len, scratch, ld);
    nhwc::run_epilogue(ops.data(), static_cast<int>(ops.size()), nhwc::Tile{n, p0, len, scratch, ld, t, wd});
  };
  pb_.step(std::move(s), epi.uses);
}

void NetBuilder::conv3x3(const std::string& name, const std::vector<Map>& in, int stride, const ConvWeights& w,
                         const EpiFn& fill) {
  int64_t K = 0;
  for (const Map& m : in) K += m.ch;
  PMSDSEN_CHECK(K == w.K && w.taps == 9 && !in.empty(), "inference plan: ", name, ": ", K,
                " input channels for a 3x3 of ", w.K);
  const int64_t ih = in[0].h, iw = in[0].w;
  const int64_t oh = (ih - 1) / stride + 1, ow = (iw - 1) / stride + 1;
  const int64_t seg = std::min(ow, tile_pixels(w.packed.cout_pad, w.packed.bw));
  const int64_t segs = (ow + seg - 1) / seg, tps = oh * segs;
  Epi epi(*this, tps);
  fill(epi);
  finish_resize_ops(epi.ops, oh, ow);
  for (const Map& m : in) epi.uses.push_back(m.buf);
  const int64_t ld = w.packed.cout_pad;
  pb_.need_scratch(seg * ld);
  const std::vector<nhwc::ConstView> views = cviews(*this, in);
  Program::Step s;
  s.name = name;
  s.kind = stride == 1 ? "conv3x3" : "conv3x3_s2";
  s.tiles = N_ * tps;
  s.macs = static_cast<double>(N_ * oh * ow * K * 9 * w.cout);
  s.body = [views, packed = w.packed, ops = epi.ops, ih, iw, stride, ow, seg, segs, tps, ld](int64_t t,
                                                                                            float* scratch) {
    const int64_t n = t / tps, r = t % tps, oy = r / segs, ox0 = (r % segs) * seg, len = std::min(seg, ow - ox0);
    nhwc::conv3x3_tile(views.data(), static_cast<int>(views.size()), ih, iw, stride, packed, n, oy, ox0, len, scratch,
                       ld);
    nhwc::run_epilogue(ops.data(), static_cast<int>(ops.size()), nhwc::Tile{n, oy * ow + ox0, len, scratch, ld, t, ow});
  };
  pb_.step(std::move(s), epi.uses);
}

void NetBuilder::conv_transpose(const std::string& name, const Map& in, const ConvWeights& w, const EpiFn& fill) {
  PMSDSEN_CHECK(in.ch == w.K && w.transposed, "inference plan: ", name, ": bad transposed convolution");
  const int64_t oh = 2 * in.h, ow = 2 * in.w;
  int64_t seg = std::min(ow, std::max<int64_t>(2, tile_pixels(w.packed.cout_pad, w.packed.bw) / 2 * 2));
  const int64_t segs = (ow + seg - 1) / seg, tps = oh * segs;
  Epi epi(*this, tps);
  fill(epi);
  finish_resize_ops(epi.ops, oh, ow);
  epi.uses.push_back(in.buf);
  const int64_t ld = w.packed.cout_pad;
  pb_.need_scratch(seg * ld);
  Program::Step s;
  s.name = name;
  s.kind = "conv_transpose3x3";
  s.tiles = N_ * tps;
  s.macs = static_cast<double>(N_ * in.h * in.w * w.K * 9 * w.cout);
  s.body = [v = cview(in), packed = w.packed, ops = epi.ops, ih = in.h, iw = in.w, ow, seg, segs, tps, ld](
               int64_t t, float* scratch) {
    const int64_t n = t / tps, r = t % tps, oy = r / segs, ox0 = (r % segs) * seg, len = std::min(seg, ow - ox0);
    nhwc::conv_transpose3x3_tile(v, ih, iw, packed, n, oy, ox0, len, scratch, ld);
    nhwc::run_epilogue(ops.data(), static_cast<int>(ops.size()), nhwc::Tile{n, oy * ow + ox0, len, scratch, ld, t, ow});
  };
  pb_.step(std::move(s), epi.uses);
}

void NetBuilder::depthwise(const std::string& name, const Map& in, const DepthwiseWeights& w, int dilation,
                           const EpiFn& fill) {
  PMSDSEN_CHECK(in.ch == w.channels && in.stride == in.ch && in.off == 0, "inference plan: ", name,
                ": the depthwise input must be a whole tensor of ", w.channels, " channels");
  const int64_t tps = in.h;
  Epi epi(*this, tps);
  fill(epi);
  finish_resize_ops(epi.ops, in.h, in.w);
  epi.uses.push_back(in.buf);
  pb_.need_scratch(in.w * in.ch);
  Program::Step s;
  s.name = name;
  s.kind = "depthwise3x3";
  s.tiles = N_ * tps;
  s.macs = static_cast<double>(N_ * in.h * in.w * in.ch * 9);
  s.body = [v = cview(in), &w, ops = epi.ops, h = in.h, wd = in.w, dilation, tps](int64_t t, float* scratch) {
    const int64_t n = t / tps, oy = t % tps;
    nhwc::depthwise3x3_row(v, h, wd, dilation, w.wpat.data(), w.bpat.data(), w.w9.data(), w.bias.data(), n, oy,
                           scratch);
    nhwc::run_epilogue(ops.data(), static_cast<int>(ops.size()), nhwc::Tile{n, oy * wd, wd, scratch, v.channels, t, wd});
  };
  pb_.step(std::move(s), epi.uses);
}

void NetBuilder::pool(const std::string& name, const Map& in, int k, int st, int p, nhwc::PoolMode mode,
                      const EpiFn& fill) {
  PMSDSEN_CHECK(in.ch <= 1024, "inference plan: ", name, ": too many channels to pool");
  const int64_t oh = (in.h + 2 * p - k) / st + 1, ow = (in.w + 2 * p - k) / st + 1;
  const int64_t tps = oh;
  Epi epi(*this, tps);
  fill(epi);
  finish_resize_ops(epi.ops, oh, ow);
  epi.uses.push_back(in.buf);
  const int64_t ld = in.ch;
  pb_.need_scratch(ow * ld);
  Program::Step s;
  s.name = name;
  s.kind = "pool";
  s.tiles = N_ * tps;
  s.body = [v = cview(in), ops = epi.ops, ih = in.h, iw = in.w, oh, ow, k, st, p, mode, tps, ld](int64_t t,
                                                                                                float* scratch) {
    const int64_t n = t / tps, oy = t % tps;
    nhwc::pool_row(v, ih, iw, oh, ow, k, st, p, mode, n, oy, scratch, ld);
    nhwc::run_epilogue(ops.data(), static_cast<int>(ops.size()), nhwc::Tile{n, oy * ow, ow, scratch, ld, t, ow});
  };
  pb_.step(std::move(s), epi.uses);
}

void NetBuilder::elementwise(const std::string& name, int64_t ch, int64_t h, int64_t wd, const EpiFn& fill) {
  const int64_t P = h * wd, T = std::min<int64_t>(P, std::max<int64_t>(16, 4096 / ch));
  const int64_t tps = (P + T - 1) / T;
  Epi epi(*this, tps);
  fill(epi);
  finish_resize_ops(epi.ops, h, wd);
  pb_.need_scratch(T * ch);
  Program::Step s;
  s.name = name;
  s.kind = "elementwise";
  s.tiles = N_ * tps;
  s.body = [ops = epi.ops, P, T, tps, ch, wd](int64_t t, float* scratch) {
    const int64_t n = t / tps, p0 = (t % tps) * T, len = std::min(T, P - p0);
    std::fill(scratch, scratch + len * ch, 0.0f);
    nhwc::run_epilogue(ops.data(), static_cast<int>(ops.size()), nhwc::Tile{n, p0, len, scratch, ch, t, wd});
  };
  pb_.step(std::move(s), epi.uses);
}

void NetBuilder::from_nchw(const std::string& name, const Map& dst) {
  const int64_t P = dst.pixels(), T = std::min<int64_t>(P, 1024), tps = (P + T - 1) / T, C = dst.ch;
  Epi epi(*this, tps);
  epi.store(0, dst);
  pb_.need_scratch(T * C);
  Program::Step s;
  s.name = name;
  s.kind = "layout";
  s.tiles = N_ * tps;
  s.body = [io = io_, ops = epi.ops, P, T, tps, C, wd = dst.w](int64_t t, float* scratch) {
    const int64_t n = t / tps, p0 = (t % tps) * T, len = std::min(T, P - p0);
    nhwc::nchw_to_tile(io->image, C, P, n, p0, len, scratch, C);
    nhwc::run_epilogue(ops.data(), static_cast<int>(ops.size()), nhwc::Tile{n, p0, len, scratch, C, t, wd});
  };
  pb_.step(std::move(s), epi.uses);
}

void NetBuilder::upsample_output(const std::string& name, int buf, int64_t classes, int64_t h, int64_t w,
                                 int index) {
  // Source indices and weights of both axes, in a buffer of their own.
  const int64_t OH = H_, OW = W_;
  const int axes = small(name + ".axes", 4 * (OH + OW));
  int* ints = reinterpret_cast<int*>(ptr(axes));
  float* floats = ptr(axes) + 2 * (OH + OW);
  nhwc::BilinearAxis ah{static_cast<int>(h), static_cast<int>(OH), 0.0f, ints, ints + OH, floats, floats + OH};
  nhwc::BilinearAxis aw{static_cast<int>(w), static_cast<int>(OW), 0.0f, ints + 2 * OH, ints + 2 * OH + OW,
                        floats + 2 * OH, floats + 2 * OH + OW};
  host(name + ".axes", {axes}, [ah, aw]() mutable {
    nhwc::bilinear_axis(ah);
    nhwc::bilinear_axis(aw);
  });
  const int64_t rows = N_ * classes * OH, band = 8, tiles = (rows + band - 1) / band;
  Program::Step s;
  s.name = name;
  s.kind = "upsample";
  s.tiles = tiles;
  s.body = [io = io_, src = ptr(buf), ah, aw, rows, band, index](int64_t t, float*) {
    nhwc::bilinear_nchw_rows(src, io->outputs[index], ah, aw, t * band, std::min(rows, (t + 1) * band));
  };
  pb_.step(std::move(s), {buf, axes});
}

void NetBuilder::host(const std::string& name, const std::vector<int>& uses, std::function<void()> f) {
  pb_.serial(name, uses, std::move(f));
}

}  // namespace pmsdsen::plan
