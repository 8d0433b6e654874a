// The inference plan's NHWC kernels (core/cpu/nhwc.h), each against the reference op it
// replaces (autograd's ops on NCHW tensors, float64): 1x1 over several input views with
// per-sample scaled weights, 3x3 at stride 1 and 2 over two views, the transposed 3x3,
// depthwise 3x3 at every dilation and channel count the network uses (and odd ones),
// pooling, the layout change, bilinear upsampling, and every epilogue op.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "autograd/ops_activation.h"
#include "autograd/ops_basic.h"
#include "autograd/ops_conv.h"
#include "autograd/ops_pool.h"
#include "autograd/ops_resize.h"
#include "core/cpu/nhwc.h"
#include "core/cpu/nhwc_gelu.h"
#include "core/cpu/vec_math.h"
#include "tests/test_util.h"

namespace pmsdsen {
namespace {

namespace nhwc = cpu::nhwc;
using test::max_rel_diff;

// n floats uniform in [lo, hi).
std::vector<float> random_floats(Generator& g, int64_t n, double lo = -2, double hi = 2) {
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = static_cast<float>(g.uniform(lo, hi));
  return v;
}

double gelu_ref(double x) { return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))); }

// An epilogue activation written out in double (PReLU's slope for this channel, LeakyReLU's 0.1).
double act_ref(nhwc::Act::Kind kind, double v, double slope) {
  if (kind == nhwc::Act::GELU) return gelu_ref(v);
  if (kind == nhwc::Act::PReLU && v < 0) return v * slope;
  if (kind == nhwc::Act::Leaky && v < 0) return v * 0.1;
  return v;
}

// NCHW float tensor -> NHWC floats, and back.
std::vector<float> to_nhwc(const Tensor& x) {
  const Tensor f = x.to(DType::F32);
  const int64_t N = x.size(0), C = x.size(1), P = x.size(2) * x.size(3);
  const float* s = f.data<float>();
  std::vector<float> out(static_cast<size_t>(N * C * P));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t p = 0; p < P; ++p) out[(n * P + p) * C + c] = s[(n * C + c) * P + p];
  return out;
}
Tensor from_nhwc(const std::vector<float>& v, int64_t N, int64_t C, int64_t H, int64_t W, int64_t stride = -1,
                 int64_t first = 0) {
  if (stride < 0) stride = C;
  Tensor out = Tensor::empty({N, C, H, W});
  float* d = out.data<float>();
  const int64_t P = H * W;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t p = 0; p < P; ++p) d[(n * C + c) * P + p] = v[(n * P + p) * stride + first + c];
  return out;
}
nhwc::ConstView cview(const std::vector<float>& v, int64_t C, int64_t P, int64_t first = 0, int64_t count = -1) {
  return nhwc::ConstView{v.data() + first, C * P, C, count < 0 ? C : count};
}

// Packs weights given in PyTorch's Conv2d order [cout, K, taps].
struct PackedW {
  nhwc::Packed p;
  std::vector<float> data;
};
PackedW pack(const Tensor& w, int taps, const float* in_scale = nullptr, const float* out_scale = nullptr) {
  PackedW r;
  const Tensor f = w.to(DType::F32);
  r.p.taps = taps;
  r.p.cout = static_cast<int>(w.size(0));
  r.p.K = static_cast<int>(w.size(1));
  nhwc::packed_geometry(r.p.cout, r.p.cout_pad, r.p.bw);
  r.data.resize(static_cast<size_t>(r.p.elems()));
  nhwc::pack_weights(f.data<float>(), int64_t(r.p.K) * taps, taps, 1, r.p, r.data.data(), in_scale, out_scale);
  r.p.data = r.data.data();
  return r;
}

Tensor rnd(const Shape& s, Generator& g) { return test::random_tensor(s, g); }

TEST(NhwcKernels, Conv1x1OverViewsWithScaledWeightsMatchesConv2d) {
  Generator g(1);
  for (int cout : {3, 16, 19, 32, 64, 128}) {
    const int64_t N = 2, H = 5, W = 7, C1 = 16, C2 = 12, P = H * W;
    Tensor a = rnd({N, C1, H, W}, g), b = rnd({N, C2, H, W}, g), w = rnd({cout, C1 + C2, 1, 1}, g);
    std::vector<float> s(C1 + C2);
    for (float& v : s) v = static_cast<float>(g.uniform(0.5, 1.5));
    // The reference: conv of concat[a, b] scaled per channel by s (= the weights scaled).
    Tensor ws = w.clone();
    for (int64_t o = 0; o < cout; ++o)
      for (int64_t k = 0; k < C1 + C2; ++k) ws.data<double>()[o * (C1 + C2) + k] *= s[k];
    Tensor ref = ops::conv2d(ops::concat_channels({a, b}), ws, Tensor());
    // b lives in channels [3, 15) of a 20-channel tensor: a strided view.
    std::vector<float> an = to_nhwc(a), wide(static_cast<size_t>(N * P * 20), 0.0f), bn = to_nhwc(b);
    for (int64_t q = 0; q < N * P; ++q)
      for (int64_t c = 0; c < C2; ++c) wide[q * 20 + 3 + c] = bn[q * C2 + c];
    const nhwc::ConstView views[2] = {cview(an, C1, P), cview(wide, 20, P, 3, C2)};
    PackedW pw = pack(w, 1, s.data());
    std::vector<float> out(static_cast<size_t>(N * P * pw.p.cout_pad));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t p0 = 0; p0 < P; p0 += 9)  // uneven tiles: partial micro-tiles too
        nhwc::conv1x1_tile(views, 2, pw.p, n, p0, std::min<int64_t>(9, P - p0),
                           out.data() + (n * P + p0) * pw.p.cout_pad, pw.p.cout_pad);
    EXPECT_LT(max_rel_diff(from_nhwc(out, N, cout, H, W, pw.p.cout_pad), ref), 1e-5) << "cout " << cout;
  }
}

TEST(NhwcKernels, Conv3x3AtStride1And2OverTwoViewsMatchesConv2d) {
  Generator g(2);
  for (int stride : {1, 2})
    for (int64_t W : {1, 6, 13}) {
      const int64_t N = 2, H = 7, C1 = 16, C2 = 3, cout = 32;
      Tensor a = rnd({N, C1, H, W}, g), b = rnd({N, C2, H, W}, g), w = rnd({cout, C1 + C2, 3, 3}, g);
      Tensor ref = ops::conv2d(ops::concat_channels({a, b}), w, Tensor(), {stride, 1, 1, 1});
      const int64_t OH = ref.size(2), OW = ref.size(3);
      std::vector<float> an = to_nhwc(a), bn = to_nhwc(b);
      const nhwc::ConstView views[2] = {cview(an, C1, H * W), cview(bn, C2, H * W)};
      PackedW pw = pack(w, 9);
      std::vector<float> out(static_cast<size_t>(N * OH * OW * pw.p.cout_pad));
      for (int64_t n = 0; n < N; ++n)
        for (int64_t oy = 0; oy < OH; ++oy)
          for (int64_t ox0 = 0; ox0 < OW; ox0 += 5)
            nhwc::conv3x3_tile(views, 2, H, W, stride, pw.p, n, oy, ox0, std::min<int64_t>(5, OW - ox0),
                               out.data() + ((n * OH + oy) * OW + ox0) * pw.p.cout_pad, pw.p.cout_pad);
      EXPECT_LT(max_rel_diff(from_nhwc(out, N, cout, OH, OW, pw.p.cout_pad), ref), 1e-5)
          << "stride " << stride << " width " << W;
    }
}

TEST(NhwcKernels, TransposedConv3x3MatchesConvTranspose2d) {
  Generator g(3);
  for (int64_t W : {1, 3, 8}) {
    const int64_t N = 2, H = 5, cin = 24, cout = 16;
    Tensor x = rnd({N, cin, H, W}, g), w = rnd({cin, cout, 3, 3}, g);
    Tensor ref = ops::conv_transpose2d(x, w, Tensor(), {2, 1, 1});
    const int64_t OH = 2 * H, OW = 2 * W;
    // Packed as [cout][cin][9].
    Tensor wt = Tensor::empty({cout, cin, 3, 3}, DType::F64);
    const double* s = w.data<double>();
    double* d = wt.data<double>();
    for (int64_t i = 0; i < cin; ++i)
      for (int64_t o = 0; o < cout; ++o)
        for (int k = 0; k < 9; ++k) d[(o * cin + i) * 9 + k] = s[(i * cout + o) * 9 + k];
    PackedW pw = pack(wt, 9);
    std::vector<float> xn = to_nhwc(x), out(static_cast<size_t>(N * OH * OW * pw.p.cout_pad));
    const nhwc::ConstView v = cview(xn, cin, H * W);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t oy = 0; oy < OH; ++oy)
        for (int64_t ox0 = 0; ox0 < OW; ox0 += 4)
          nhwc::conv_transpose3x3_tile(v, H, W, pw.p, n, oy, ox0, std::min<int64_t>(4, OW - ox0),
                                       out.data() + ((n * OH + oy) * OW + ox0) * pw.p.cout_pad, pw.p.cout_pad);
    EXPECT_LT(max_rel_diff(from_nhwc(out, N, cout, OH, OW, pw.p.cout_pad), ref), 1e-5) << "width " << W;
  }
}

TEST(NhwcKernels, DepthwiseMatchesGroupedConv2dAtEveryDilation) {
  Generator g(4);
  for (int C : {3, 4, 8, 16, 32, 64, 24})
    for (int d = 1; d <= 4; ++d)
      for (int64_t W : {2, 9, 37}) {
        const int64_t N = 2, H = 6;
        Tensor x = rnd({N, C, H, W}, g), w = rnd({C, 1, 3, 3}, g), b = rnd({C}, g);
        Tensor ref = ops::conv2d(x, w, b, {1, d, d, C});
        const Tensor wf = w.to(DType::F32), bf = b.to(DType::F32);
        const int period = nhwc::depthwise_period(C);
        std::vector<float> wpat(9 * period * nhwc::vector_lanes()), bpat(period * nhwc::vector_lanes());
        nhwc::depthwise_pattern(wf.data<float>(), bf.data<float>(), C, wpat.data(), bpat.data());
        std::vector<float> xn = to_nhwc(x), out(static_cast<size_t>(N * H * W * C));
        for (int64_t n = 0; n < N; ++n)
          for (int64_t oy = 0; oy < H; ++oy)
            nhwc::depthwise3x3_row(cview(xn, C, H * W), H, W, d, wpat.data(), bpat.data(), wf.data<float>(),
                                   bf.data<float>(), n, oy, out.data() + (n * H + oy) * W * C);
        EXPECT_LT(max_rel_diff(from_nhwc(out, N, C, H, W), ref), 1e-5) << C << " channels, dilation " << d
                                                                       << ", width " << W;
      }
}

TEST(NhwcKernels, PoolingMatchesAvgAndMaxPool) {
  Generator g(5);
  struct P {
    int k, s, p;
  };
  for (int C : {3, 32})
    for (P q : {P{3, 2, 1}, P{2, 2, 0}, P{5, 2, 2}, P{17, 8, 8}}) {
      const int64_t N = 2, H = 11, W = 19;
      Tensor x = rnd({N, C, H, W}, g);
      Tensor avg = ops::avg_pool2d(x, q.k, q.s, q.p), mx = ops::max_pool2d(x, q.k, q.s, q.p);
      const int64_t OH = avg.size(2), OW = avg.size(3);
      std::vector<float> xn = to_nhwc(x);
      for (auto mode : {nhwc::PoolMode::Avg, nhwc::PoolMode::Max, nhwc::PoolMode::AvgPlusMax}) {
        std::vector<float> out(static_cast<size_t>(N * OH * OW * C));
        for (int64_t n = 0; n < N; ++n)
          for (int64_t oy = 0; oy < OH; ++oy)
            nhwc::pool_row(cview(xn, C, H * W), H, W, OH, OW, q.k, q.s, q.p, mode, n, oy,
                           out.data() + (n * OH + oy) * OW * C, C);
        const Tensor ref = mode == nhwc::PoolMode::Avg ? avg : mode == nhwc::PoolMode::Max ? mx : avg + mx;
        EXPECT_LT(max_rel_diff(from_nhwc(out, N, C, OH, OW), ref), 1e-5) << "k " << q.k << " C " << C;
      }
    }
}

TEST(NhwcKernels, LayoutChangeAndUpsamplingMatchTheReference) {
  Generator g(6);
  const int64_t N = 2, C = 5, H = 6, W = 9;
  Tensor x = rnd({N, C, H, W}, g);
  const Tensor xf = x.to(DType::F32);
  std::vector<float> raw(static_cast<size_t>(N * H * W * C));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t p0 = 0; p0 < H * W; p0 += 7)
      nhwc::nchw_to_tile(xf.data<float>(), C, H * W, n, p0, std::min<int64_t>(7, H * W - p0),
                         raw.data() + (n * H * W + p0) * C, C);
  EXPECT_EQ(max_rel_diff(from_nhwc(raw, N, C, H, W), xf), 0.0);
  for (int factor : {2, 4, 8}) {
    const int OH = static_cast<int>(H * factor), OW = static_cast<int>(W * factor);
    std::vector<int> ints(2 * (OH + OW));
    std::vector<float> floats(2 * (OH + OW));
    nhwc::BilinearAxis ah{int(H), OH, 0.0f, ints.data(), ints.data() + OH, floats.data(), floats.data() + OH};
    nhwc::BilinearAxis aw{int(W), OW, 0.0f, ints.data() + 2 * OH, ints.data() + 2 * OH + OW, floats.data() + 2 * OH,
                          floats.data() + 2 * OH + OW};
    nhwc::bilinear_axis(ah);
    nhwc::bilinear_axis(aw);
    Tensor out = Tensor::empty({N, C, OH, OW});
    nhwc::bilinear_nchw_rows(xf.data<float>(), out.data<float>(), ah, aw, 0, N * C * OH);
    EXPECT_LT(max_rel_diff(out, ops::bilinear(x, OH, OW, false)), 1e-6) << "x" << factor;
  }
}

TEST(NhwcKernels, RationalErfIsWithinAMillionthOfErf) {
  double worst = 0;
  for (double x = -7.0; x <= 7.0; x += 1e-3) worst = std::max(worst, std::abs(cpu::rational_erf(float(x)) - std::erf(x)));
  EXPECT_LT(worst, 1e-6);
}

// Every epilogue op on a tile against the same arithmetic written out directly.
TEST(NhwcKernels, EpilogueOpsComputeWhatTheySay) {
  Generator g(7);
  for (int C : {4, 8, 24, 32}) {  // narrow tiles take the flat paths
    const int64_t N = 2, H = 3, W = 5, P = H * W, T = 7, n = 1, p0 = 4;
    auto vec = [&](int64_t size, double lo = -2, double hi = 2) { return random_floats(g, size, lo, hi); };
    std::vector<float> tile = vec(T * C), bias = vec(C), a = vec(C, 0.5, 1.5), b = vec(C), slopes = vec(C, 0, 0.5);
    std::vector<float> nc = vec(N * C), res = vec(N * P * C), small = vec(N * 2 * 3 * C);
    std::vector<float> out1(static_cast<size_t>(N * P * (C + 2)), 0.0f), out2(static_cast<size_t>(N * P * C), 0.0f);
    std::vector<float> sums1(static_cast<size_t>(4 * C)), sums2(static_cast<size_t>(4 * C)),
        nchw(static_cast<size_t>(N * C * P), 0.0f);
    // Expected values, element by element, in double.
    std::vector<double> want(tile.begin(), tile.end()), want_mapped(T * C);
    const float rh = 2.0f / float(H), rw = 3.0f / float(W);
    for (int64_t r = 0; r < T; ++r)
      for (int c = 0; c < C; ++c) {
        const int64_t p = p0 + r;
        double v = want[r * C + c];
        v += bias[c];
        v = v * a[c] + b[c];
        v *= nc[n * C + c];
        v += res[(n * P + p) * C + c] * nc[n * C + c];
        // bilinear of the 2 x 3 map at (y, x)
        const int y = int(p / W), x = int(p % W);
        double sy = std::max(0.0, rh * (y + 0.5) - 0.5), sx = std::max(0.0, rw * (x + 0.5) - 0.5);
        const int y0 = std::min(int(sy), 1), x0 = std::min(int(sx), 2);
        const int y1 = std::min(y0 + 1, 1), x1 = std::min(x0 + 1, 2);
        const double ly = sy - y0, lx = sx - x0;
        auto at = [&](int yy, int xx) { return double(small[((n * 2 + yy) * 3 + xx) * C + c]); };
        v += (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1));
        v = v > 0 ? v : v * slopes[c];  // PReLU
        want[r * C + c] = v;
        want_mapped[r * C + c] = gelu_ref(v * a[c] + b[c]);
      }
    std::vector<nhwc::EpOp> ops;
    auto op = [&](nhwc::EpOp::Kind k) {
      nhwc::EpOp o{k};
      o.c0 = 0, o.c1 = C;
      return o;
    };
    nhwc::EpOp o = op(nhwc::EpOp::Bias);
    o.a = bias.data();
    ops.push_back(o);
    o = op(nhwc::EpOp::Affine);
    o.a = a.data(), o.b = b.data();
    ops.push_back(o);
    o = op(nhwc::EpOp::ScaleNC);
    o.nc = nc.data(), o.nc_stride = C;
    ops.push_back(o);
    o = op(nhwc::EpOp::AddView);
    o.view = nhwc::View{res.data(), P * C, C};
    o.nc = nc.data(), o.nc_stride = C;
    ops.push_back(o);
    o = op(nhwc::EpOp::AddResized);
    o.src = nhwc::ConstView{small.data(), 6 * C, C, C};
    o.src_h = 2, o.src_w = 3, o.ratio_h = rh, o.ratio_w = rw;
    ops.push_back(o);
    o = op(nhwc::EpOp::Activate);
    o.act = nhwc::Act{nhwc::Act::PReLU, slopes.data(), 0.0f};
    ops.push_back(o);
    o = op(nhwc::EpOp::Store);  // into channels [1, C + 1) of a (C + 2)-channel tensor
    o.view = nhwc::View{out1.data() + 1, P * (C + 2), C + 2};
    ops.push_back(o);
    o = op(nhwc::EpOp::Sum);
    o.sums = sums1.data(), o.sums_stride = C;
    ops.push_back(o);
    o = op(nhwc::EpOp::StoreMapped);
    o.view = nhwc::View{out2.data(), P * C, C};
    o.a = a.data(), o.b = b.data(), o.act = nhwc::Act{nhwc::Act::GELU, nullptr, 0.0f};
    o.sums = sums2.data(), o.sums_stride = C;
    ops.push_back(o);
    o = op(nhwc::EpOp::StoreNCHW);
    o.view = nhwc::View{nchw.data(), C * P, 0};
    o.plane = P;
    ops.push_back(o);
    nhwc::run_epilogue(ops.data(), static_cast<int>(ops.size()), nhwc::Tile{n, p0, T, tile.data(), C, 2, W});
    double worst = 0, worst_mapped = 0, worst_sum = 0;
    for (int c = 0; c < C; ++c) {
      double s1 = 0, s2 = 0;
      for (int64_t r = 0; r < T; ++r) {
        const int64_t p = p0 + r;
        worst = std::max(worst, std::abs(out1[(n * P + p) * (C + 2) + 1 + c] - want[r * C + c]));
        worst = std::max(worst, std::abs(tile[r * C + c] - want[r * C + c]));
        worst = std::max(worst, std::abs(nchw[(n * C + c) * P + p] - want[r * C + c]));
        worst_mapped = std::max(worst_mapped, std::abs(out2[(n * P + p) * C + c] - want_mapped[r * C + c]));
        s1 += want[r * C + c];
        s2 += want_mapped[r * C + c];
      }
      worst_sum = std::max({worst_sum, std::abs(sums1[2 * C + c] - s1), std::abs(sums2[2 * C + c] - s2)});
    }
    EXPECT_LT(worst, 1e-4) << C << " channels";
    EXPECT_LT(worst_mapped, 1e-4) << C << " channels";
    EXPECT_LT(worst_sum, 1e-3) << C << " channels";
    // Nothing outside the stored slice and pixels was written.
    for (int64_t q = 0; q < N * P; ++q) {
      EXPECT_EQ(out1[q * (C + 2)], 0.0f);
      EXPECT_EQ(out1[q * (C + 2) + C + 1], 0.0f);
    }
  }
}

}  // namespace
}  // namespace pmsdsen

namespace pmsdsen {
namespace {

TEST(NhwcKernels, GeluIsWithinHalfAMillionthOfTheExactOne) {
  std::vector<float> v;
  for (double x = -12.0; x <= 12.0; x += 1.0 / 1024) v.push_back(static_cast<float>(x));
  v.push_back(std::numeric_limits<float>::infinity());
  std::vector<float> y = v;
  cpu::nhwc::gelu_array(y.data(), static_cast<int64_t>(y.size()));
  double worst = 0;
  for (size_t i = 0; i + 1 < v.size(); ++i) {
    const double x = v[i], exact = 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    worst = std::max(worst, std::abs(y[i] - exact) / std::max(1.0, std::abs(x)));
  }
  EXPECT_LT(worst, 5e-7);
  EXPECT_EQ(y.back(), std::numeric_limits<float>::infinity());
}

// StoreMapped into a channel slice of a wider tensor, with each activation, with and
// without its affine map, at widths of whole vectors (one fused pass) and not.
TEST(NhwcKernels, StoreMappedIntoSlicesWithEachActivation) {
  Generator g(9);
  auto vec = [&](int64_t size, double lo, double hi) { return random_floats(g, size, lo, hi); };
  for (int m : {16, 32, 48, 24}) {
    for (auto kind : {nhwc::Act::None, nhwc::Act::GELU, nhwc::Act::PReLU, nhwc::Act::Leaky}) {
      for (bool affine : {true, false}) {
        const int64_t N = 2, P = 20, T = 9, n = 1, p0 = 6, ld = m + 16, first = 5, wide = m + 11;
        std::vector<float> tile = vec(T * ld, -4, 4), a = vec(m, 0.5, 1.5), b = vec(m, -1, 1), slopes = vec(m, 0, 0.5);
        std::vector<float> out(static_cast<size_t>(N * P * wide), 0.0f), sums(static_cast<size_t>(3 * m), -1.0f);
        nhwc::EpOp o{nhwc::EpOp::StoreMapped};
        o.c0 = 16, o.c1 = 16 + m;  // columns [16, 16 + m) of the tile
        o.view = nhwc::View{out.data() + first, P * wide, wide};
        if (affine) o.a = a.data(), o.b = b.data();
        o.act = nhwc::Act{kind, slopes.data(), 0.1f};
        o.sums = sums.data(), o.sums_stride = m;
        const std::vector<float> before = tile;
        nhwc::run_epilogue(&o, 1, nhwc::Tile{n, p0, T, tile.data(), ld, 1, 5});
        EXPECT_EQ(tile, before) << "StoreMapped leaves the tile as it was";
        double worst = 0, worst_sum = 0;
        for (int c = 0; c < m; ++c) {
          double sum = 0;
          for (int64_t r = 0; r < T; ++r) {
            double v = before[r * ld + 16 + c];
            if (affine) v = v * a[c] + b[c];
            v = act_ref(kind, v, slopes[c]);
            worst = std::max(worst, std::abs(out[(n * P + p0 + r) * wide + first + c] - v));
            sum += v;
          }
          worst_sum = std::max(worst_sum, std::abs(sums[m + c] - sum));
        }
        EXPECT_LT(worst, 1e-5) << m << " channels, activation " << int(kind) << ", affine " << affine;
        EXPECT_LT(worst_sum, 1e-4) << m << " channels, activation " << int(kind) << ", affine " << affine;
        EXPECT_EQ(sums[0], -1.0f) << "another tile's sums were written";
        EXPECT_EQ(sums[2 * m], -1.0f) << "another tile's sums were written";
        // Only the slice's channels of pixels p0 .. p0 + T - 1 of sample n were written.
        for (int64_t q = 0; q < N * P; ++q)
          for (int64_t c = 0; c < wide; ++c) {
            const bool inside = q >= n * P + p0 && q < n * P + p0 + T && c >= first && c < first + m;
            if (!inside) ASSERT_EQ(out[q * wide + c], 0.0f) << "pixel " << q << " channel " << c;
          }
      }
    }
  }
}

// Activate, Store and Sum of the same columns (run as one pass at widths of whole
// vectors), with and without the Sum, and a later op that reads the activated tile.
TEST(NhwcKernels, ActivateStoreSumAsSeparateOpsWouldDo) {
  Generator g(13);
  auto vec = [&](int64_t size, double lo, double hi) { return random_floats(g, size, lo, hi); };
  for (int m : {16, 32, 48, 24}) {
    for (auto kind : {nhwc::Act::GELU, nhwc::Act::PReLU, nhwc::Act::Leaky}) {
      for (bool with_sum : {true, false}) {
        const int64_t N = 2, P = 20, T = 9, n = 1, p0 = 6, ld = m + 16, first = 3, wide = m + 7;
        std::vector<float> tile = vec(T * ld, -4, 4), slopes = vec(ld, 0, 0.5);
        std::vector<float> out(static_cast<size_t>(N * P * wide), 0.0f), copy(static_cast<size_t>(N * P * m), 0.0f);
        std::vector<float> sums(static_cast<size_t>(2 * m), -1.0f);
        auto cols = [&](nhwc::EpOp::Kind k) {
          nhwc::EpOp o{k};
          o.c0 = 16, o.c1 = 16 + m;
          return o;
        };
        std::vector<nhwc::EpOp> ops;
        nhwc::EpOp o = cols(nhwc::EpOp::Activate);
        o.act = nhwc::Act{kind, slopes.data() + 16, 0.1f};
        ops.push_back(o);
        o = cols(nhwc::EpOp::Store);
        o.view = nhwc::View{out.data() + first, P * wide, wide};
        ops.push_back(o);
        if (with_sum) {
          o = cols(nhwc::EpOp::Sum);
          o.sums = sums.data(), o.sums_stride = m;
          ops.push_back(o);
        }
        o = cols(nhwc::EpOp::Store);  // reads the tile after the activation
        o.view = nhwc::View{copy.data(), P * m, m};
        ops.push_back(o);
        const std::vector<float> before = tile;
        nhwc::run_epilogue(ops.data(), static_cast<int>(ops.size()), nhwc::Tile{n, p0, T, tile.data(), ld, 1, 5});
        double worst = 0, worst_sum = 0;
        for (int c = 0; c < m; ++c) {
          double sum = 0;
          for (int64_t r = 0; r < T; ++r) {
            double v = before[r * ld + 16 + c];
            v = act_ref(kind, v, slopes[16 + c]);
            const int64_t q = n * P + p0 + r;
            worst = std::max({worst, std::abs(out[q * wide + first + c] - v), std::abs(copy[q * m + c] - v),
                              std::abs(tile[r * ld + 16 + c] - v)});
            sum += v;
          }
          if (with_sum) worst_sum = std::max(worst_sum, std::abs(sums[m + c] - sum));
        }
        EXPECT_LT(worst, 1e-5) << m << " channels, activation " << int(kind) << ", sum " << with_sum;
        EXPECT_LT(worst_sum, 1e-4) << m << " channels, activation " << int(kind);
        if (!with_sum) EXPECT_EQ(sums[m], -1.0f) << "no Sum op, yet sums were written";
        EXPECT_EQ(sums[0], -1.0f) << "another tile's sums were written";
        for (int64_t r = 0; r < T; ++r)
          for (int c = 0; c < 16; ++c) ASSERT_EQ(tile[r * ld + c], before[r * ld + c]) << "a column outside the ops";
        for (int64_t q = 0; q < N * P; ++q)
          for (int64_t c = 0; c < wide; ++c) {
            const bool inside = q >= n * P + p0 && q < n * P + p0 + T && c >= first && c < first + m;
            if (!inside) ASSERT_EQ(out[q * wide + c], 0.0f) << "pixel " << q << " channel " << c;
          }
      }
    }
  }
}

}  // namespace
}  // namespace pmsdsen
