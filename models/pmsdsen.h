#pragma once
// PMSDSEN (ACM MM 2023): the lightweight encoder-decoder for street-scene segmentation,
// with the authors' state-dict keys (docs/pmsdsen-architecture.md). Input N x 3 x H x W,
// H and W multiples of 8; three outputs at input resolution: the prediction (from the
// x2 head) and the x4 and x8 deep-supervision heads.
#include <memory>

#include "core/rng.h"
#include "layers/activation.h"
#include "layers/sequential.h"

namespace pmsdsen {

class Down;
class Up;
class DWFF;
class MSSE;

// Labels are 8-bit with 255 meaning "ignore" (data/), so no dataset has more classes;
// a weights file asking for more is refused before anything is built.
constexpr int64_t kPmsdsenMaxClasses = 255;

struct PmsdsenConfig {
  int64_t classes = 19;
  Activation act = Activation::GELU;
};

struct PmsdsenOutput {
  Tensor logits;  // N x classes x H x W
  Tensor aux_x4;
  Tensor aux_x8;
};

constexpr int64_t kPmsdsenBaseWidth = 32;
constexpr const char* kPmsdsenOutputNames[3] = {"logits", "aux_x4", "aux_x8"};

// Throws unless x is [N, 3, H, W] with H and W positive multiples of 8.
void check_pmsdsen_input(const Tensor& x);

class PMSDSEN : public Module {
 public:
  explicit PMSDSEN(const PmsdsenConfig& config, Generator& gen);
  explicit PMSDSEN(const PmsdsenConfig& config = {});  // seed 0

  // Training mode: BatchNorm uses batch statistics (and updates the running ones) unless
  // frozen; eval(): running statistics. Wrap in autograd::NoGradGuard for inference.
  PmsdsenOutput run(const Tensor& x);
  // The prediction alone (the x4/x8 heads are skipped).
  Tensor forward(const Tensor& x) override;

  const PmsdsenConfig& config() const { return config_; }
  std::string type_name() const override { return "PMSDSEN"; }

 private:
  // The trunk and the x2 head; the x4/x8 heads only when `heads`.
  PmsdsenOutput run_impl(const Tensor& x, bool heads);
  Tensor stage(Sequential& layers, Tensor x);

  PmsdsenConfig config_;
  std::shared_ptr<DWFF> dwff4_, dwff5_;
  std::shared_ptr<Sequential> stem_, layer1_, layer2_, layer3_, layer4_, layer5_;
  std::shared_ptr<Down> down2_, down3_;
  std::shared_ptr<Up> up4_, up5_;
  std::shared_ptr<MSSE> msse_;
  std::shared_ptr<Sequential> head_x2_, head_x4_, head_x8_;
};

}  // namespace pmsdsen
