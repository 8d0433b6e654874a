// PMSDSE units and their LRMS branches, fused. With e = act(bn_entry(x)) given (the
// producer of x also wrote e and its channel sums):
//   y = LDI(e) + MSLRI(e) + Attn(e) = ldi_conv(e) + mslri_conv(e) + e * (2 + s_e)
// is never formed on its own: its two channel halves are finished in the epilogues of
// the last convolution of each half, which add the other branch's half and e * (2 + s_e),
// apply bn_act and store u = bn_act(y) with its channel sums. The first 1x1 of LDI and
// of MSLRI read the same e and run as one product. Each ECA between two basic blocks
// becomes a per-sample scaling of the next 1x1's weights (W diag(s)); Attn_output's
// channel means come from u's through the 1x1 (a linear map), so the last 1x1's epilogue
// applies the scale, adds the residual x, the output activation, and writes the next
// unit's entry bn_act with its sums.
#include "models/plan/builder.h"

namespace pmsdsen::plan {

void NetBuilder::lrms(const std::string& l, const Map& in, const std::string& tag, const EpiFn& tail_fn) {
  const int64_t d = in.ch, q = d / 4, h = in.h, wd = in.w;
  PMSDSEN_CHECK(d % 4 == 0, "inference plan: ", l, ": width ", d, " is not divisible by 4");
  Map t[4], y[4], s[4];
  for (int i = 0; i < 4; ++i) t[i] = map(tag + ".t" + std::to_string(i + 1), q, h, wd);
  const ConvWeights& head = w_.conv(l + ".head.0", l + ".head.1");
  conv1x1(l + ".head", {in}, head, -1, h, wd, [&](Epi& e) {
    e.bias(0, static_cast<int>(d), head.bias.data()).act(0, static_cast<int>(d), PlanWeights::gelu());
    for (int i = 0; i < 4; ++i) e.store(static_cast<int>(i * q), t[i]);
  });
  for (int i = 0; i < 4; ++i) {
    const std::string x = l + ".x" + std::to_string(i + 1);
    y[i] = map(tag + ".y" + std::to_string(i + 1), q, h, wd);
    if (i < 3) s[i + 1] = map(tag + ".s" + std::to_string(i + 2), q, h, wd);
    depthwise(x, i == 0 ? t[0] : s[i], w_.depthwise(x + ".0", x + ".1"), i + 1, [&](Epi& e) {
      e.act(0, static_cast<int>(q), PlanWeights::gelu()).store(0, y[i]);
      if (i < 3) e.add(0, t[i + 1]).store(0, s[i + 1]);
    });
  }
  const ConvWeights& tail = w_.conv(l + ".tail.0", l + ".tail.1");
  conv1x1(l + ".tail", {y[0], y[1], y[2], y[3]}, tail, -1, h, wd, [&](Epi& e) {
    e.bias(0, static_cast<int>(d), tail.bias.data());
    tail_fn(e);
  });
}

void NetBuilder::unit(const std::string& u, const std::vector<Map>& x, const Map& e, const Sums& e_sums,
                      const Map& out, Sums* out_sums, const std::string& next_bn, const std::string& next_act,
                      Map* next_e, Sums* next_sums) {
  const int64_t C = e.ch, h = C / 2, H = e.h, W = e.w, P = H * W;
  const int ci = static_cast<int>(C), hi = static_cast<int>(h);
  const std::string ldi = u + ".LDI.conv.", msl = u + ".MSLRI.conv.";
  const nhwc::Act gelu = PlanWeights::gelu();

  // Attn(e) = e * s_e, with LDI's and MSLRI's residuals: e * (2 + s_e).
  const int mean_e = small(u + ".mean_e", N_ * C), re = small(u + ".attn", N_ * C);
  {
    std::vector<int> uses = uses_of(e_sums);
    uses.push_back(mean_e);
    uses.push_back(re);
    const std::vector<float>& k = w_.tensor(u + ".Attn.conv.weight");
    host(u + ".Attn", uses, [e_sums, N = N_, C, P, m = ptr(mean_e), r = ptr(re), &k] {
      channel_means(e_sums, N, C, P, m);
      eca_scale(m, k, N, C, 2.0f, r);
    });
  }

  // The first 1x1 of LDI (compress) and of MSLRI (conv), as one product over e.
  const Map a1 = map(u + ".a1", h, H, W), m1 = map(u + ".m1", h, H, W);
  Sums s_ldi, s_msl;
  const ConvWeights& pair = w_.conv({ldi + "0.compress.0", msl + "0.conv.0"}, {ldi + "0.compress.1", msl + "0.conv.1"});
  conv1x1(u + ".LDI+MSLRI.0", {e}, pair, -1, H, W, [&](Epi& ep) {
    ep.bias(0, ci, pair.bias.data())
        .act(0, hi, w_.act(ldi + "0.compress.2"))
        .act(hi, ci, w_.act(msl + "0.conv.2"))
        .store(0, a1)
        .sum(0, hi, s_ldi, 0)
        .store(hi, m1)
        .sum(hi, ci, s_msl, 0);
  });
  const Map d1 = map(u + ".d1", h, H, W);
  depthwise(ldi + "0.process", a1, w_.depthwise(ldi + "0.process.0", ldi + "0.process.1"), 1, [&](Epi& ep) {
    ep.act(0, hi, w_.act(ldi + "0.process.2")).store(0, d1).sum(0, hi, s_ldi, h);
  });
  const Map b1 = map(u + ".b1", h, H, W);
  lrms(msl + "0.LRMS", m1, u + ".lrms0", [&](Epi& ep) { ep.add(0, m1).act(0, hi, gelu).store(0, b1).sum(0, hi, s_msl, h); });

  // The ECAs between the basic blocks, as per-sample weights of the next 1x1.
  const ConvWeights& ldi2 = w_.conv(ldi + "2.compress.0", ldi + "2.compress.1");
  const ConvWeights& msl2 = w_.conv(msl + "2.conv.0", msl + "2.conv.1");
  const int w_ldi = small(u + ".LDI.w", N_ * ldi2.packed.elems()), w_msl = small(u + ".MSLRI.w", N_ * msl2.packed.elems());
  const int mean_l = small(u + ".mean_ldi", N_ * C), mean_m = small(u + ".mean_mslri", N_ * C);
  const int sc_l = small(u + ".eca_ldi", N_ * C), sc_m = small(u + ".eca_mslri", N_ * C);
  auto eca_weights = [&](const std::string& name, const Sums& sums, const std::string& eca, const ConvWeights& cw,
                         int mean, int sc, int wbuf) {
    std::vector<int> uses = uses_of(sums);
    uses.insert(uses.end(), {mean, sc, wbuf});
    host(name, uses, [sums, N = N_, C, P, m = ptr(mean), s = ptr(sc), wp = ptr(wbuf), &k = w_.tensor(eca), &cw] {
      channel_means(sums, N, C, P, m);
      eca_scale(m, k, N, C, 0.0f, s);
      for (int64_t n = 0; n < N; ++n) cw.pack_scaled(s + n * C, nullptr, wp + n * cw.packed.elems());
    });
  };
  eca_weights(ldi + "1", s_ldi, ldi + "1.conv.weight", ldi2, mean_l, sc_l, w_ldi);
  eca_weights(msl + "1", s_msl, msl + "1.conv.weight", msl2, mean_m, sc_m, w_msl);

  const Map a2 = map(u + ".a2", h, H, W);
  conv1x1(ldi + "2.compress", {a1, d1}, ldi2, w_ldi, H, W, [&](Epi& ep) {
    ep.bias(0, hi, ldi2.bias.data()).act(0, hi, w_.act(ldi + "2.compress.2")).store(0, a2);
  });
  const Map d2 = map(u + ".d2", h, H, W);
  depthwise(ldi + "2.process", a2, w_.depthwise(ldi + "2.process.0", ldi + "2.process.1"), 1, [&](Epi& ep) {
    ep.act(0, hi, w_.act(ldi + "2.process.2")).store(0, d2);
  });

  // u = bn_act(y), each half finished by its MSLRI convolution.
  const Map ub = map(u + ".u", C, H, W);
  Sums s_u;
  const AffineWeights& bn = w_.bn(u + ".bn_act.br.0");
  const nhwc::Act act = w_.act(u + ".bn_act.br.1");
  const Map m2 = map(u + ".m2", h, H, W);
  conv1x1(msl + "2.conv", {m1, b1}, msl2, w_msl, H, W, [&](Epi& ep) {
    ep.bias(0, hi, msl2.bias.data())
        .act(0, hi, w_.act(msl + "2.conv.2"))
        .store(0, m2)
        .add(0, a2)
        .add(0, e.slice(0, h), re, C, 0)
        .store_mapped(0, ub.slice(0, h), &bn, act, 0, &s_u);
  });
  lrms(msl + "2.LRMS", m2, u + ".lrms2", [&](Epi& ep) {
    ep.add(0, m2).act(0, hi, gelu).add(0, d2).add(0, e.slice(h, h), re, C, h).store_mapped(0, ub.slice(h, h), &bn, act, h,
                                                                                             &s_u);
  });

  // Attn_output's scale from u's means through the (linear) 1x1, then the 1x1 itself.
  const ConvWeights& c11 = w_.conv(u + ".conv1x1.0", u + ".conv1x1.1");
  const int mean_u = small(u + ".mean_u", N_ * C), mean_z = small(u + ".mean_z", N_ * C);
  const int sz = small(u + ".attn_out", N_ * C);
  {
    std::vector<int> uses = uses_of(s_u);
    uses.insert(uses.end(), {mean_u, mean_z, sz});
    host(u + ".Attn_output", uses,
         [s_u, N = N_, C, P, m = ptr(mean_u), z = ptr(mean_z), s = ptr(sz),
          &k = w_.tensor(u + ".Attn_output.conv.weight"), &c11] {
           channel_means(s_u, N, C, P, m);
           linear_means(c11, m, N, z);
           eca_scale(z, k, N, C, 0.0f, s);
         });
  }
  conv1x1(u + ".conv1x1", {ub}, c11, -1, H, W, [&](Epi& ep) {
    ep.bias(0, ci, c11.bias.data()).scale_nc(0, ci, sz, C);
    int64_t off = 0;
    for (const Map& seg : x) {
      ep.add(static_cast<int>(off), seg);
      off += seg.ch;
    }
    ep.act(0, ci, w_.act(u + ".act_out")).store(0, out);
    if (out_sums) ep.sum(0, ci, *out_sums, 0);
    if (next_e) ep.store_mapped(0, *next_e, &w_.bn(next_bn), w_.act(next_act), 0, next_sums);
  });
}

}  // namespace pmsdsen::plan
