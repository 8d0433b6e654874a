#pragma once
// The trained parameters of a PMSDSEN prepared for the inference plan, once: every batch
// norm that follows a convolution folded into it (w' = w * g / sqrt(var + eps),
// b' = (b - mean) * g / sqrt(var + eps) + beta, computed in double), the others turned
// into a per-channel scale and shift, weights packed for the NHWC kernels. Entries are
// made on first use and kept, so a plan for another input size reuses them. Looked up
// by the authors' state-dict keys.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/cpu/nhwc.h"
#include "models/pmsdsen.h"

namespace pmsdsen::plan {

namespace nhwc = cpu::nhwc;

struct ConvWeights {
  nhwc::Packed packed;          // data points into `data`
  std::vector<float> data;
  std::vector<float> bias;      // cout (folded; zeros when neither conv nor BN has one)
  std::vector<float> plain;     // folded weights in PyTorch's order [cout][K][taps] (transposed: [K][cout][taps])
  int64_t cout = 0, K = 0, taps = 1;
  bool transposed = false;
  // Packs the folded weights scaled per input channel (in_scale: K entries) and/or per
  // output channel (out_scale: cout entries), into `out` (packed.elems() floats).
  void pack_scaled(const float* in_scale, const float* out_scale, float* out) const;
  // Sets packed's geometry from cout, K and taps and packs the folded weights into `data`.
  void pack();
};

struct AffineWeights {
  std::vector<float> scale, shift;
};

struct DepthwiseWeights {
  int64_t channels = 0;
  std::vector<float> w9, bias, wpat, bpat;  // folded; patterns for nhwc::depthwise3x3_row
};

class PlanWeights {
 public:
  explicit PlanWeights(const PMSDSEN& model);
  const PmsdsenConfig& config() const { return config_; }

  // Conv2d at `conv` (key prefix, ".weight"/".bias" appended) with the BatchNorm2d at
  // `bn` folded in ("" for none). Several convolutions reading the same input can be
  // stacked along the output channels into one: `conv` lists their prefixes, `bn` the
  // matching BNs.
  const ConvWeights& conv(const std::vector<std::string>& convs, const std::vector<std::string>& bns);
  const ConvWeights& conv(const std::string& c, const std::string& bn) { return conv(std::vector<std::string>{c}, {bn}); }
  // A ConvTranspose2d with its BN folded.
  const ConvWeights& conv_transpose(const std::string& c, const std::string& bn);
  const DepthwiseWeights& depthwise(const std::string& c, const std::string& bn);
  // A BN on its own: y = x * scale + shift.
  const AffineWeights& bn(const std::string& prefix);
  // The network's activation at `prefix` (PReLU: its slopes; GELU: none) or GELU forced.
  nhwc::Act act(const std::string& prefix);
  static nhwc::Act gelu() { return nhwc::Act{nhwc::Act::GELU, nullptr, 0.0f}; }
  // A parameter or buffer as floats (e.g. an ECA kernel, a DWFF convolution).
  const std::vector<float>& tensor(const std::string& key);
  const Shape& shape(const std::string& key) const;
  double bn_eps(const std::string& prefix) const;
  // Bytes held (the model's copy and everything prepared from it).
  size_t bytes() const;

 private:
  PmsdsenConfig config_;
  std::map<std::string, Tensor> state_;  // CPU float copies
  std::map<std::string, double> eps_;
  std::map<std::string, std::unique_ptr<ConvWeights>> convs_;
  std::map<std::string, std::unique_ptr<DepthwiseWeights>> dws_;
  std::map<std::string, std::unique_ptr<AffineWeights>> bns_;
  std::map<std::string, std::vector<float>> tensors_;
};

}  // namespace pmsdsen::plan
