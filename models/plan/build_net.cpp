// The whole network: input, stem, the encoder (Down blocks with the injected image),
// MSSE, the decoder (Up + DWFF), the heads. Every block boundary is fused: a block's last
// epilogue writes its output, the next unit's entry bn_act and the channel sums the
// next attention or fusion needs.
#include <algorithm>
#include <cmath>

#include "core/activation_math.h"
#include "core/cpu/vec_math.h"
#include "models/plan/builder.h"

namespace pmsdsen::plan {
namespace {

std::string entry_bn(const std::string& unit) { return unit + ".entry_bn_act.br.0"; }
std::string entry_act(const std::string& unit) { return unit + ".entry_bn_act.br.1"; }

// The activation on one value (host computations on pooled vectors).
float apply(const nhwc::Act& a, int64_t c, float v) {
  switch (a.kind) {
    case nhwc::Act::GELU: return hd::gelu<float, cpu::CpuMath>(v);
    case nhwc::Act::PReLU: return v > 0.0f ? v : v * a.slopes[c];
    case nhwc::Act::Leaky: return v > 0.0f ? v : v * a.slope;
    default: return v;
  }
}

}  // namespace

void NetBuilder::build() {
  const int64_t c = kPmsdsenBaseWidth, classes = w_.config().classes;
  const int64_t H2 = H_ / 2, W2 = W_ / 2, H4 = H_ / 4, W4 = W_ / 4, H8 = H_ / 8, W8 = W_ / 8;
  using nhwc::PoolMode;

  // Input: NCHW to NHWC once; the injected image at H/2 and H/4.
  const Map img = map("image", 3, H_, W_);
  from_nchw("input", img);
  const Map img2 = map("image/2", 3, H2, W2), img4 = map("image/4", 3, H4, W4);
  pool("inject/2", img, 3, 2, 1, PoolMode::AvgPlusMax, [&](Epi& e) { e.store(0, img2); });
  pool("inject/4", img2, 3, 2, 1, PoolMode::AvgPlusMax, [&](Epi& e) { e.store(0, img4); });

  // Stem; its second convolution also writes layer1.0's entry.
  const Map st1 = map("stem1", c / 2, H2, W2);
  const ConvWeights& s0 = w_.conv("Stem_Conv.0", "Stem_Conv.1");
  conv3x3("Stem_Conv.0", {img}, 2, s0, [&](Epi& e) {
    e.bias(0, c / 2, s0.bias.data()).act(0, c / 2, w_.act("Stem_Conv.2")).store(0, st1);
  });
  Map x = map("stem", c, H2, W2), e = map("layer1.0.e", c, H2, W2);
  Sums es;
  const ConvWeights& s3 = w_.conv("Stem_Conv.3", "Stem_Conv.4");
  conv3x3("Stem_Conv.3", {st1}, 1, s3, [&](Epi& ep) {
    ep.bias(0, c, s3.bias.data()).store(0, x).store_mapped(0, e, &w_.bn(entry_bn("layer1.0")), w_.act(entry_act("layer1.0")),
                                                          0, &es);
  });

  // A layer of units; the last one writes `last_sums` and, when given, the entry of what follows.
  auto layer = [&](const std::string& name, int units, std::vector<Map> in, Map in_e, Sums in_sums, Sums* last_sums,
                   const std::string& next_bn, const std::string& next_act, Map* next_e, Sums* next_sums) {
    Map out;
    for (int i = 0; i < units; ++i) {
      const std::string u = name + "." + std::to_string(i);
      out = map(u + ".out", in_e.ch, in_e.h, in_e.w);
      if (i + 1 < units) {
        const std::string nu = name + "." + std::to_string(i + 1);
        Map ne = map(nu + ".e", in_e.ch, in_e.h, in_e.w);
        Sums ns;
        unit(u, in, in_e, in_sums, out, nullptr, entry_bn(nu), entry_act(nu), &ne, &ns);
        in = {out};
        in_e = ne;
        in_sums = ns;
      } else {
        unit(u, in, in_e, in_sums, out, last_sums, next_bn, next_act, next_e, next_sums);
      }
    }
    return out;
  };

  // Down(cin -> 2 cin) with the image: the 3x3/s2 convolution gives channels [0, cin), the
  // pooled input [cin, 2 cin); both finish bn_act and write the next unit's entry.
  auto down = [&](const std::string& d, const Map& in, const Map& image, const std::string& next, Map& xo, Map& eo,
                  Sums& so) {
    const int64_t cin = in.ch, cout = 2 * cin, n = cout - cin, oh = in.h / 2, ow = in.w / 2;
    xo = map(d + ".out", cout, oh, ow);
    eo = map(next + ".e", cout, oh, ow);
    const ConvWeights& cw = w_.conv(d + ".conv3x3.cbr.0", d + ".conv3x3.cbr.1");
    const AffineWeights& bn = w_.bn(d + ".bn_act.br.0");
    const nhwc::Act act = w_.act(d + ".bn_act.br.1");
    const AffineWeights& nbn = w_.bn(entry_bn(next));
    const nhwc::Act nact = w_.act(entry_act(next));
    const int ni = static_cast<int>(n), cini = static_cast<int>(cin);
    conv3x3(d + ".conv3x3", {in, image}, 2, cw, [&](Epi& ep) {
      ep.bias(0, ni, cw.bias.data())
          .act(0, ni, w_.act(d + ".conv3x3.cbr.2"))
          .affine(0, ni, bn, 0)
          .act(0, ni, act, 0)
          .store(0, xo.slice(0, n))
          .store_mapped(0, eo.slice(0, n), &nbn, nact, 0, &so);
    });
    pool(d + ".pool", in, 2, 2, 0, PoolMode::AvgPlusMax, [&](Epi& ep) {
      ep.affine(0, cini, bn, n).act(0, cini, act, n).store(0, xo.slice(n, cin)).store_mapped(0, eo.slice(n, cin), &nbn,
                                                                                          nact, n, &so);
    });
  };

  // Up: the transposed convolution with its BN and activation, and its channel sums.
  auto up = [&](const std::string& name, const Map& in, Sums& su) {
    const ConvWeights& cw = w_.conv_transpose(name + ".conv", name + ".bn");
    Map u = map(name + ".out", cw.cout, 2 * in.h, 2 * in.w);
    const int co = static_cast<int>(cw.cout);
    conv_transpose(name, in, cw, [&](Epi& ep) {
      ep.bias(0, co, cw.bias.data()).act(0, co, w_.act(name + ".act")).store(0, u).sum(0, co, su, 0);
    });
    return u;
  };

  // DWFF(a, b): the softmax weights from the two maps' means, then one pass that writes
  // a * wa + b * wb and the next unit's entry.
  auto dwff = [&](const std::string& name, const Map& a, const Sums& sa, const Map& b, const Sums& sb,
                  const std::string& next, Map& xo, Map& eo, Sums& so) {
    const int64_t C = a.ch, P = a.pixels();
    const int ma = small(name + ".mean_a", N_ * C), mb = small(name + ".mean_b", N_ * C);
    const int wab = small(name + ".weights", N_ * 2 * C);
    std::vector<int> uses = uses_of(sa);
    for (int id : uses_of(sb)) uses.push_back(id);
    uses.insert(uses.end(), {ma, mb, wab});
    const Shape& du = w_.shape(name + ".conv_du.0.weight");  // [d, C, 1, 1]
    const int64_t d = du[0];
    PMSDSEN_CHECK(du[1] == C && d <= 1024, "inference plan: ", name, ": unexpected conv_du ", shape_str(du));
    const AffineWeights& bn = w_.bn(name + ".conv_du.1");
    host(name, uses,
         [sa, sb, N = N_, C, P, d, pa = ptr(ma), pb = ptr(mb), out = ptr(wab), &wdu = w_.tensor(name + ".conv_du.0.weight"),
          &bdu = w_.tensor(name + ".conv_du.0.bias"), &bn, &f0 = w_.tensor(name + ".fcs.0.weight"),
          &b0 = w_.tensor(name + ".fcs.0.bias"), &f1 = w_.tensor(name + ".fcs.1.weight"),
          &b1 = w_.tensor(name + ".fcs.1.bias")] {
           channel_means(sa, N, C, P, pa);
           channel_means(sb, N, C, P, pb);
           float z[1024];
           for (int64_t n = 0; n < N; ++n) {
             for (int64_t j = 0; j < d; ++j) {
               double acc = bdu[j];
               for (int64_t k = 0; k < C; ++k) acc += double(wdu[j * C + k]) * (double(pa[n * C + k]) + pb[n * C + k]);
               const float v = static_cast<float>(acc) * bn.scale[j] + bn.shift[j];
               z[j] = v > 0.0f ? v : 0.2f * v;
             }
             for (int64_t k = 0; k < C; ++k) {
               double va = b0[k], vb = b1[k];
               for (int64_t j = 0; j < d; ++j) va += double(f0[k * d + j]) * z[j], vb += double(f1[k * d + j]) * z[j];
               const double m = std::max(va, vb), ea = std::exp(va - m), eb = std::exp(vb - m);
               out[n * 2 * C + k] = static_cast<float>(ea / (ea + eb));
               out[n * 2 * C + C + k] = static_cast<float>(eb / (ea + eb));
             }
           }
         });
    xo = map(name + ".out", C, a.h, a.w);
    eo = map(next + ".e", C, a.h, a.w);
    elementwise(name + ".fuse", C, a.h, a.w, [&](Epi& ep) {
      ep.add(0, a, wab, 2 * C, 0).add(0, b, wab, 2 * C, C).store(0, xo).store_mapped(0, eo, &w_.bn(entry_bn(next)),
                                                                                    w_.act(entry_act(next)), 0, &so);
    });
  };

  // Encoder.
  Sums s_l1;
  const Map l1 = layer("layer1", 1, {x}, e, es, &s_l1, "", "", nullptr, nullptr);
  Map x2, e2;
  Sums es2;
  down("down2", l1, img2, "layer2.0", x2, e2, es2);
  Sums s_l2;
  const Map l2 = layer("layer2", 2, {x2}, e2, es2, &s_l2, "", "", nullptr, nullptr);
  Map x3, e3;
  Sums es3;
  down("down3", l2, img4, "layer3.0", x3, e3, es3);
  Sums s_l3, s_uid;
  Map uid = map("MSSE_.identity.in", 4 * c, H8, W8);
  const Map l3 = layer("layer3", 6, {x3}, e3, es3, &s_l3, "MSSE_.identity.0", "MSSE_.identity.1", &uid, &s_uid);

  // MSSE.
  const int64_t mid = 2 * c, cin = 4 * c;
  const int mi = static_cast<int>(mid);
  Map xb[4];
  const int pools[3][2] = {{5, 2}, {9, 4}, {17, 8}};
  for (int i = 1; i <= 3; ++i) {
    const std::string b = "MSSE_.x" + std::to_string(i);
    const int k = pools[i - 1][0], s = pools[i - 1][1];
    const int64_t oh = (H8 + 2 * (k / 2) - k) / s + 1, ow = (W8 + 2 * (k / 2) - k) / s + 1;
    const Map pm = map(b + ".pool", cin, oh, ow);
    pool(b + ".0", l3, k, s, k / 2, PoolMode::Avg, [&](Epi& ep) { ep.store(0, pm); });
    xb[i] = map(b + ".out", mid, oh, ow);
    const ConvWeights& cw = w_.conv(b + ".1", b + ".2");
    conv1x1(b + ".1", {pm}, cw, -1, oh, ow, [&](Epi& ep) {
      ep.bias(0, mi, cw.bias.data()).act(0, mi, w_.act(b + ".3")).store(0, xb[i]);
    });
  }
  const int mean_x = small("MSSE_.x4.mean", N_ * cin), x4v = small("MSSE_.x4.out", N_ * mid);
  {
    std::vector<int> uses = uses_of(s_l3);
    uses.insert(uses.end(), {mean_x, x4v});
    const ConvWeights& cw = w_.conv("MSSE_.x4.1", "MSSE_.x4.2");
    host("MSSE_.x4", uses, [s_l3, N = N_, cin, mid, P = H8 * W8, m = ptr(mean_x), out = ptr(x4v), &cw,
                            act = w_.act("MSSE_.x4.3")] {
      channel_means(s_l3, N, cin, P, m);
      linear_means(cw, m, N, out);
      for (int64_t n = 0; n < N; ++n)
        for (int64_t j = 0; j < mid; ++j) out[n * mid + j] = apply(act, j, out[n * mid + j]);
    });
  }
  const Map cat = map("MSSE_.tail.in", 5 * mid, H8, W8);
  Sums s_cat;
  const AffineWeights& tbn = w_.bn("MSSE_.tail.0");
  const nhwc::Act tact = w_.act("MSSE_.tail.1");
  Map v = map("MSSE_.v1", mid, H8, W8);
  {
    const ConvWeights& cw = w_.conv("MSSE_.x0.0", "MSSE_.x0.1");
    conv1x1("MSSE_.x0", {l3}, cw, -1, H8, W8, [&](Epi& ep) {
      ep.bias(0, mi, cw.bias.data())
          .act(0, mi, w_.act("MSSE_.x0.2"))
          .store_mapped(0, cat.slice(0, mid), &tbn, tact, 0, &s_cat)
          .add_resized(0, xb[1])
          .store(0, v);
    });
  }
  for (int i = 1; i <= 4; ++i) {
    const std::string p = "MSSE_.p" + std::to_string(i);
    const ConvWeights& cw = w_.conv(p + ".0", p + ".1");
    const Map next = i < 4 ? map("MSSE_.v" + std::to_string(i + 1), mid, H8, W8) : Map{};
    conv3x3(p, {v}, 1, cw, [&](Epi& ep) {
      ep.bias(0, mi, cw.bias.data()).act(0, mi, w_.act(p + ".2")).store_mapped(0, cat.slice(i * mid, mid), &tbn, tact,
                                                                               i * mid, &s_cat);
      if (i < 3) ep.add_resized(0, xb[i + 1]).store(0, next);
      if (i == 3) ep.add_nc(0, mi, x4v, mid).store(0, next);
    });
    v = next;
  }
  // tail + identity as one product over [cat, uid], each half's ECA scaling its output columns.
  const ConvWeights& wt = w_.conv("MSSE_.tail.2", "");
  const ConvWeights& wi = w_.conv("MSSE_.identity.2", "");
  ConvWeights both;
  both.cout = cin;
  both.K = wt.K + wi.K;
  both.packed.K = static_cast<int>(both.K);
  both.packed.cout = static_cast<int>(cin);
  nhwc::packed_geometry(both.packed.cout, both.packed.cout_pad, both.packed.bw);
  const int64_t elems = both.packed.elems();
  const int wfin = small("MSSE_.w", N_ * elems), tmp = small("MSSE_.w.tmp", cin * both.K);
  const int mt = small("MSSE_.tail.mean", N_ * 5 * mid), mu = small("MSSE_.identity.mean", N_ * cin);
  const int zt = small("MSSE_.tail.z", N_ * cin), zi = small("MSSE_.identity.z", N_ * cin);
  const int st = small("MSSE_.tail.s", N_ * cin), si = small("MSSE_.identity.s", N_ * cin);
  {
    std::vector<int> uses = uses_of(s_cat);
    for (int id : uses_of(s_uid)) uses.push_back(id);
    uses.insert(uses.end(), {wfin, tmp, mt, mu, zt, zi, st, si});
    host("MSSE_.eca", uses,
         [s_cat, s_uid, N = N_, cin, mid, P = H8 * W8, packed = both.packed, elems, K = both.K, &wt, &wi, pw = ptr(wfin),
          pt = ptr(tmp), pmt = ptr(mt), pmu = ptr(mu), pzt = ptr(zt), pzi = ptr(zi), pst = ptr(st), psi = ptr(si),
          &kt = w_.tensor("MSSE_.tail.3.conv.weight"), &ki = w_.tensor("MSSE_.identity.3.conv.weight")] {
           channel_means(s_cat, N, 5 * mid, P, pmt);
           channel_means(s_uid, N, cin, P, pmu);
           linear_means(wt, pmt, N, pzt);
           linear_means(wi, pmu, N, pzi);
           eca_scale(pzt, kt, N, cin, 0.0f, pst);
           eca_scale(pzi, ki, N, cin, 0.0f, psi);
           for (int64_t n = 0; n < N; ++n) {
             for (int64_t co = 0; co < cin; ++co) {
               for (int64_t k = 0; k < wt.K; ++k) pt[co * K + k] = wt.plain[co * wt.K + k] * pst[n * cin + co];
               for (int64_t k = 0; k < wi.K; ++k) pt[co * K + wt.K + k] = wi.plain[co * wi.K + k] * psi[n * cin + co];
             }
             nhwc::Packed p = packed;
             nhwc::pack_weights(pt, K, 1, 0, p, pw + n * elems);
           }
         });
  }
  const Map l3m = map("MSSE_.out", cin, H8, W8);
  conv1x1("MSSE_.tail+identity", {cat, uid}, both, wfin, H8, W8, [&](Epi& ep) { ep.store(0, l3m); });

  // Heads: two 1x1s (the second stores NCHW), then the bilinear upsampling to the output.
  auto head = [&](const std::string& name, const Map& in, int index) {
    const int64_t ch = in.ch / 2, P = in.pixels();
    const ConvWeights& c0 = w_.conv(name + ".0", name + ".1");
    const Map hd = map(name + ".mid", ch, in.h, in.w);
    conv1x1(name + ".0", {in}, c0, -1, in.h, in.w, [&](Epi& ep) {
      ep.bias(0, static_cast<int>(ch), c0.bias.data()).act(0, static_cast<int>(ch), w_.act(name + ".2")).store(0, hd);
    });
    const ConvWeights& c3 = w_.conv(name + ".3", name + ".4");
    const int logits = small(name + ".logits", N_ * classes * P);
    conv1x1(name + ".3", {hd}, c3, -1, in.h, in.w, [&](Epi& ep) {
      ep.bias(0, static_cast<int>(classes), c3.bias.data()).store_nchw(0, static_cast<int>(classes), logits, P);
    });
    upsample_output(name + ".up", logits, classes, in.h, in.w, index);
  };
  if (heads_) head("seg_head_x8", l3m, 2);

  // Decoder.
  Sums s_u4;
  const Map u4 = up("up4", l3m, s_u4);
  Map x4, e4;
  Sums es4;
  dwff("DWFF4", u4, s_u4, l2, s_l2, "layer4.0", x4, e4, es4);
  const Map l4 = layer("layer4", 2, {x4}, e4, es4, nullptr, "", "", nullptr, nullptr);
  if (heads_) head("seg_head_x4", l4, 1);
  Sums s_u5;
  const Map u5 = up("up5", l4, s_u5);
  Map x5, e5;
  Sums es5;
  dwff("DWFF5", u5, s_u5, l1, s_l1, "layer5.0", x5, e5, es5);
  const Map l5 = layer("layer5", 1, {x5}, e5, es5, nullptr, "", "", nullptr, nullptr);
  head("seg_head_x2", l5, 0);
}

}  // namespace pmsdsen::plan
