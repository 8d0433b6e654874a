#include "models/pmsdsen.h"

#include "autograd/ops_resize.h"
#include "layers/batchnorm.h"
#include "layers/trace.h"
#include "models/conv_bn.h"
#include "models/dwff.h"
#include "models/fold_bn.h"
#include "models/msse.h"
#include "models/pmsdse.h"
#include "models/sampling.h"

namespace pmsdsen {
namespace {

// Sequential with a name for the layer table.
class Stem : public FoldingSequential {
 public:
  std::string type_name() const override { return "Stem"; }
};
class SegHead : public FoldingSequential {
 public:
  std::string type_name() const override { return "SegHead"; }
};

std::shared_ptr<Sequential> make_stem(int64_t c, Activation act, Generator& gen) {
  auto s = std::make_shared<Stem>();
  s->push_back(make_conv({3, c / 2, 3, 2, 1, 1, 1, true}, gen));
  s->push_back(std::make_shared<BatchNorm2d>(c / 2));
  s->push_back(make_activation(act, c / 2));
  s->push_back(make_conv({c / 2, c, 3, 1, 1, 1, 1, true}, gen));
  s->push_back(std::make_shared<BatchNorm2d>(c));
  return s;
}

std::shared_ptr<Sequential> make_head(int64_t cin, int64_t classes, Activation act, Generator& gen) {
  auto h = std::make_shared<SegHead>();
  h->push_back(make_conv({cin, cin / 2, 1, 1, 0, 1, 1, true}, gen));
  h->push_back(std::make_shared<BatchNorm2d>(cin / 2));
  h->push_back(make_activation(act, cin / 2));
  h->push_back(make_conv({cin / 2, classes, 1, 1, 0, 1, 1, true}, gen));
  h->push_back(std::make_shared<BatchNorm2d>(classes));
  return h;
}

std::shared_ptr<Sequential> make_layer(int64_t units, int64_t ch, Activation act, Generator& gen) {
  auto s = std::make_shared<Sequential>();
  for (int64_t i = 0; i < units; ++i) s->push_back(std::make_shared<PMSDSE>(ch, act, gen));
  return s;
}

bool batch_statistics_in_use(const Module& m) {
  if (auto* bn = dynamic_cast<const BatchNorm2d*>(&m)) return bn->is_training() && !bn->frozen();
  for (const auto& [name, child] : m.children())
    if (batch_statistics_in_use(*child)) return true;
  return false;
}

}  // namespace

void check_pmsdsen_input(const Tensor& x) {
  check_defined(x, "PMSDSEN", "input");
  PMSDSEN_CHECK(x.dim() == 4 && x.size(1) == 3, "PMSDSEN: expected an N x 3 x H x W input, got ", x.str());
  PMSDSEN_CHECK(is_floating(x.dtype()), "PMSDSEN: the input must be floating point, got ", x.str());
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  PMSDSEN_CHECK(n > 0 && h > 0 && w > 0, "PMSDSEN: empty input ", x.str());
  PMSDSEN_CHECK(h % 8 == 0 && w % 8 == 0, "PMSDSEN: input height and width must be multiples of 8, got ", h,
                " x ", w, " (pad the image, e.g. to ", (h + 7) / 8 * 8, " x ", (w + 7) / 8 * 8,
                ", and crop the prediction back)");
}

PMSDSEN::PMSDSEN(const PmsdsenConfig& config) : PMSDSEN(config, *std::make_unique<Generator>(0)) {}

PMSDSEN::PMSDSEN(const PmsdsenConfig& config, Generator& gen) : config_(config) {
  PMSDSEN_CHECK(config.classes > 0 && config.classes <= kPmsdsenMaxClasses, "PMSDSEN: ", config.classes,
                " classes; the number of classes must be in [1, ", kPmsdsenMaxClasses, "]");
  const int64_t c = kPmsdsenBaseWidth;
  const Activation act = config.act;
  // Registration order follows the released model (the fusion units first).
  dwff4_ = register_module("DWFF4", std::make_shared<DWFF>(2 * c, 8, gen));
  dwff5_ = register_module("DWFF5", std::make_shared<DWFF>(c, 4, gen));
  stem_ = register_module("Stem_Conv", make_stem(c, act, gen));
  layer1_ = register_module("layer1", make_layer(1, c, act, gen));
  down2_ = register_module("down2", std::make_shared<Down>(c, 2 * c, act, gen));
  layer2_ = register_module("layer2", make_layer(2, 2 * c, act, gen));
  down3_ = register_module("down3", std::make_shared<Down>(2 * c, 4 * c, act, gen));
  layer3_ = register_module("layer3", make_layer(6, 4 * c, act, gen));
  up4_ = register_module("up4", std::make_shared<Up>(4 * c, 2 * c, act, gen));
  layer4_ = register_module("layer4", make_layer(2, 2 * c, act, gen));
  up5_ = register_module("up5", std::make_shared<Up>(2 * c, c, act, gen));
  layer5_ = register_module("layer5", make_layer(1, c, act, gen));
  msse_ = register_module("MSSE_", std::make_shared<MSSE>(4 * c, 2 * c, 4 * c, act, gen));
  head_x2_ = register_module("seg_head_x2", make_head(c, config.classes, act, gen));
  head_x4_ = register_module("seg_head_x4", make_head(2 * c, config.classes, act, gen));
  head_x8_ = register_module("seg_head_x8", make_head(4 * c, config.classes, act, gen));
}

Tensor PMSDSEN::stage(Sequential& layers, Tensor x) {
  for (const auto& [name, unit] : layers.children()) x = trace_call(*unit, x);
  return x;
}

PmsdsenOutput PMSDSEN::run_impl(const Tensor& image, bool heads) {
  check_pmsdsen_input(image);
  PMSDSEN_CHECK(image.size(0) > 1 || !batch_statistics_in_use(*this),
                "PMSDSEN: training-mode batch normalisation needs at least 2 images per batch (the pooled "
                "1x1 branches have one value per channel per image), got ", image.str());
  // Every intermediate is released as soon as nothing needs it (in no-grad inference the
  // memory goes back at once): the skip connections l1, l2 die at their fusion, and l3, l4
  // as soon as they are upsampled unless the auxiliary heads need them.
  // The image injected into down2 (at H/2) is reduced once more for down3 (at H/4).
  Tensor image_2 = inject_image(image, image.size(2) / 2);
  Tensor l1 = stage(*layer1_, trace_call(*stem_, image));
  Tensor l2 = stage(*layer2_, trace_scope(*down2_, l1, [&] { return down2_->forward(l1, image_2); }));
  Tensor image_4 = inject_image(image_2, image.size(2) / 4);
  image_2 = Tensor();
  Tensor l3 = stage(*layer3_, trace_scope(*down3_, l2, [&] { return down3_->forward(l2, image_4); }));
  l3 = trace_call(*msse_, l3);
  image_4 = Tensor();
  Tensor l4;
  {
    Tensor u = trace_call(*up4_, l3);
    if (!heads) l3 = Tensor();
    Tensor fused = trace_scope(*dwff4_, u, [&] { return dwff4_->forward(u, l2); });
    u = Tensor();
    l2 = Tensor();
    l4 = stage(*layer4_, std::move(fused));
  }
  Tensor l5;
  {
    Tensor u = trace_call(*up5_, l4);
    if (!heads) l4 = Tensor();
    Tensor fused = trace_scope(*dwff5_, u, [&] { return dwff5_->forward(u, l1); });
    u = Tensor();
    l1 = Tensor();
    l5 = stage(*layer5_, std::move(fused));
  }
  PmsdsenOutput out;
  {
    Tensor head = trace_call(*head_x2_, l5);
    l5 = Tensor();
    out.logits = ops::bilinear_scale(head, 2, false);
  }
  if (heads) {
    out.aux_x4 = ops::bilinear_scale(trace_call(*head_x4_, l4), 4, false);
    out.aux_x8 = ops::bilinear_scale(trace_call(*head_x8_, l3), 8, false);
  }
  return out;
}

PmsdsenOutput PMSDSEN::run(const Tensor& x) { return run_impl(x, true); }

Tensor PMSDSEN::forward(const Tensor& x) { return run_impl(x, false).logits; }

}  // namespace pmsdsen
