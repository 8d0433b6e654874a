#include "models/plan/weights.h"

#include <cmath>

#include "layers/batchnorm.h"

namespace pmsdsen::plan {
namespace {

void collect_eps(const Module& m, const std::string& prefix, std::map<std::string, double>& eps) {
  if (auto* bn = dynamic_cast<const BatchNorm2d*>(&m)) eps[prefix] = bn->eps();
  for (const auto& [name, child] : m.children()) collect_eps(*child, prefix.empty() ? name : prefix + "." + name, eps);
}

}  // namespace

PlanWeights::PlanWeights(const PMSDSEN& model) : config_(model.config()) {
  for (const auto& [name, t] : model.state_dict())
    if (is_floating(t.dtype())) state_.emplace(name, t.to(Device::cpu()).to(DType::F32).clone());
  collect_eps(model, "", eps_);
}

size_t PlanWeights::bytes() const {
  size_t b = 0;
  for (const auto& [k, t] : state_) b += t.nbytes();
  for (const auto& [k, v] : tensors_) b += v.size() * sizeof(float);
  for (const auto& [k, c] : convs_) b += (c->data.size() + c->bias.size() + c->plain.size()) * sizeof(float);
  for (const auto& [k, d] : dws_) b += (d->w9.size() + d->bias.size() + d->wpat.size() + d->bpat.size()) * sizeof(float);
  for (const auto& [k, a] : bns_) b += (a->scale.size() + a->shift.size()) * sizeof(float);
  return b;
}

const Shape& PlanWeights::shape(const std::string& key) const {
  auto it = state_.find(key);
  PMSDSEN_CHECK(it != state_.end(), "inference plan: the model has no tensor ", key);
  return it->second.shape();
}

const std::vector<float>& PlanWeights::tensor(const std::string& key) {
  auto it = tensors_.find(key);
  if (it != tensors_.end()) return it->second;
  auto s = state_.find(key);
  PMSDSEN_CHECK(s != state_.end(), "inference plan: the model has no tensor ", key);
  return tensors_.emplace(key, s->second.to_vector<float>()).first->second;
}

double PlanWeights::bn_eps(const std::string& prefix) const {
  auto it = eps_.find(prefix);
  PMSDSEN_CHECK(it != eps_.end(), "inference plan: no BatchNorm2d at ", prefix);
  return it->second;
}

const AffineWeights& PlanWeights::bn(const std::string& prefix) {
  auto& slot = bns_[prefix];
  if (slot) return *slot;
  const std::vector<float>&g = tensor(prefix + ".weight"), &b = tensor(prefix + ".bias");
  const std::vector<float>&m = tensor(prefix + ".running_mean"), &v = tensor(prefix + ".running_var");
  const double eps = bn_eps(prefix);
  auto a = std::make_unique<AffineWeights>();
  for (size_t c = 0; c < g.size(); ++c) {
    const double scale = double(g[c]) / std::sqrt(double(v[c]) + eps);
    a->scale.push_back(static_cast<float>(scale));
    a->shift.push_back(static_cast<float>(double(b[c]) - double(m[c]) * scale));
  }
  slot = std::move(a);
  return *slot;
}

nhwc::Act PlanWeights::act(const std::string& prefix) {
  if (config_.act == Activation::GELU) return gelu();
  return nhwc::Act{nhwc::Act::PReLU, tensor(prefix + ".weight").data(), 0.0f};
}

namespace {

// Folds BN `bn` (or nothing) into weights [cout][rest] and bias, in double.
void fold(PlanWeights& pw, const std::string& bn, int64_t cout, int64_t rest, const float* w, const float* b,
          float* w_out, float* b_out) {
  std::vector<double> scale(cout, 1.0), shift(cout, 0.0);
  if (!bn.empty()) {
    const std::vector<float>&g = pw.tensor(bn + ".weight"), &beta = pw.tensor(bn + ".bias");
    const std::vector<float>&m = pw.tensor(bn + ".running_mean"), &v = pw.tensor(bn + ".running_var");
    PMSDSEN_CHECK(static_cast<int64_t>(g.size()) == cout, "inference plan: BN ", bn, " has ", g.size(),
                  " channels, its convolution ", cout);
    const double eps = pw.bn_eps(bn);
    for (int64_t c = 0; c < cout; ++c) {
      scale[c] = double(g[c]) / std::sqrt(double(v[c]) + eps);
      shift[c] = double(beta[c]) - double(m[c]) * scale[c];
    }
  }
  for (int64_t c = 0; c < cout; ++c) {
    for (int64_t i = 0; i < rest; ++i) w_out[c * rest + i] = static_cast<float>(double(w[c * rest + i]) * scale[c]);
    b_out[c] = static_cast<float>((b ? double(b[c]) : 0.0) * scale[c] + shift[c]);
  }
}

}  // namespace

void ConvWeights::pack() {
  packed.taps = static_cast<int>(taps);
  packed.K = static_cast<int>(K);
  packed.cout = static_cast<int>(cout);
  nhwc::packed_geometry(packed.cout, packed.cout_pad, packed.bw);
  data.resize(static_cast<size_t>(packed.elems()));
  pack_scaled(nullptr, nullptr, data.data());
  packed.data = data.data();
}

void ConvWeights::pack_scaled(const float* in_scale, const float* out_scale, float* out) const {
  nhwc::Packed p = packed;
  nhwc::pack_weights(plain.data(), K * taps, taps, 1, p, out, in_scale, out_scale);
}

const ConvWeights& PlanWeights::conv(const std::vector<std::string>& convs, const std::vector<std::string>& bns) {
  std::string key;
  for (size_t i = 0; i < convs.size(); ++i) key += convs[i] + "|" + bns[i] + ";";
  auto& slot = convs_[key];
  if (slot) return *slot;
  auto cw = std::make_unique<ConvWeights>();
  for (size_t i = 0; i < convs.size(); ++i) {
    const Shape& s = shape(convs[i] + ".weight");
    PMSDSEN_CHECK(s.size() == 4 && s[2] == s[3], "inference plan: ", convs[i], " is not a square Conv2d");
    const int64_t cout = s[0], K = s[1], taps = s[2] * s[3];
    PMSDSEN_CHECK(i == 0 || (K == cw->K && taps == cw->taps), "inference plan: stacked convolutions differ");
    cw->K = K;
    cw->taps = taps;
    const std::string bias_key = convs[i] + ".bias";
    const float* b = state_.count(bias_key) ? tensor(bias_key).data() : nullptr;
    std::vector<float> w(cout * K * taps), fb(cout);
    fold(*this, bns[i], cout, K * taps, tensor(convs[i] + ".weight").data(), b, w.data(), fb.data());
    cw->plain.insert(cw->plain.end(), w.begin(), w.end());
    cw->bias.insert(cw->bias.end(), fb.begin(), fb.end());
    cw->cout += cout;
  }
  cw->pack();
  slot = std::move(cw);
  return *slot;
}

const ConvWeights& PlanWeights::conv_transpose(const std::string& c, const std::string& bn) {
  auto& slot = convs_["T:" + c + "|" + bn];
  if (slot) return *slot;
  const Shape& s = shape(c + ".weight");  // [cin, cout, 3, 3]
  PMSDSEN_CHECK(s.size() == 4 && s[2] == 3 && s[3] == 3, "inference plan: ", c, " is not a 3x3 ConvTranspose2d");
  const int64_t cin = s[0], cout = s[1];
  const std::vector<float>& w = tensor(c + ".weight");
  // To [cout][cin][9] first, so that folding scales rows.
  std::vector<float> t(cout * cin * 9);
  for (int64_t i = 0; i < cin; ++i)
    for (int64_t o = 0; o < cout; ++o)
      for (int k = 0; k < 9; ++k) t[(o * cin + i) * 9 + k] = w[(i * cout + o) * 9 + k];
  auto cw = std::make_unique<ConvWeights>();
  cw->transposed = true;
  cw->cout = cout;
  cw->K = cin;
  cw->taps = 9;
  cw->plain.resize(t.size());
  cw->bias.resize(cout);
  const std::string bias_key = c + ".bias";
  fold(*this, bn, cout, cin * 9, t.data(), state_.count(bias_key) ? tensor(bias_key).data() : nullptr,
       cw->plain.data(), cw->bias.data());
  cw->pack();
  slot = std::move(cw);
  return *slot;
}

const DepthwiseWeights& PlanWeights::depthwise(const std::string& c, const std::string& bn) {
  auto& slot = dws_[c + "|" + bn];
  if (slot) return *slot;
  const Shape& s = shape(c + ".weight");  // [C, 1, 3, 3]
  PMSDSEN_CHECK(s.size() == 4 && s[1] == 1 && s[2] == 3 && s[3] == 3, "inference plan: ", c,
                " is not a depthwise 3x3 convolution");
  auto d = std::make_unique<DepthwiseWeights>();
  d->channels = s[0];
  d->w9.resize(s[0] * 9);
  d->bias.resize(s[0]);
  const std::string bias_key = c + ".bias";
  fold(*this, bn, s[0], 9, tensor(c + ".weight").data(), state_.count(bias_key) ? tensor(bias_key).data() : nullptr,
       d->w9.data(), d->bias.data());
  const int period = nhwc::depthwise_period(static_cast<int>(s[0]));
  d->wpat.resize(9 * period * nhwc::vector_lanes());
  d->bpat.resize(period * nhwc::vector_lanes());
  nhwc::depthwise_pattern(d->w9.data(), d->bias.data(), static_cast<int>(s[0]), d->wpat.data(), d->bpat.data());
  slot = std::move(d);
  return *slot;
}

}  // namespace pmsdsen::plan
