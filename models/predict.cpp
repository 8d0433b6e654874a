#include "models/predict.h"

#include <memory>

#include "autograd/grad_mode.h"
#include "autograd/ops_argmax.h"
#include "autograd/ops_resize.h"
#include "models/graph_forward.h"
#include "models/pad_crop.h"
#include "models/plan/plan.h"
#include "models/pmsdsen.h"

namespace pmsdsen {
namespace {

void check_image(const Tensor& image) {
  PMSDSEN_CHECK(image.defined() && image.dim() == 4 && image.size(0) == 1 && image.size(1) == 3 &&
                    image.dtype() == DType::F32,
                "predict: expected a float32 image [1, 3, H, W], got ", image.defined() ? image.str() : "nothing");
}

// The top-left h x w of logits on their device (cropped on the host).
Tensor crop_logits(const Tensor& logits, int64_t h, int64_t w) {
  if (logits.size(2) == h && logits.size(3) == w) return logits;
  return crop_top_left(logits.cpu(), h, w).to(logits.device());
}

// The image with zero rows and columns added at the bottom and right up to multiples of
// 8, which the network needs, on the image's device (padded on the host).
Tensor padded_to_8(const Tensor& image) {
  if (image.size(2) % 8 == 0 && image.size(3) % 8 == 0) return image;
  return pad_to_multiple(image.cpu(), 8).to(image.device());
}

}  // namespace

Predictor::Predictor(PMSDSEN& model, bool use_plan)
    : classes_(model.config().classes), device_(model.device()) {
  // The inference plan copies the weights as they are now (models/plan/plan.h).
  if (use_plan && device_.is_cpu() && !model.is_training()) {
    auto plan = std::make_shared<plan::InferencePlan>(model);
    network_ = [plan](const Tensor& image) { return plan->forward(padded_to_8(image)); };
    engine_ = Engine::Plan;
    return;
  }
  if (use_plan && device_.is_cuda() && !model.is_training()) {
    auto graph = std::make_shared<CudaGraphForward>(model);
    network_ = [graph](const Tensor& image) { return graph->forward(padded_to_8(image)); };
    engine_ = Engine::CudaGraph;
    return;
  }
  network_ = [&model](const Tensor& image) { return model.forward(padded_to_8(image)); };
}

Predictor::Predictor(Network network, int64_t classes, Device device)
    : network_(std::move(network)), classes_(classes), device_(device) {
  PMSDSEN_CHECK(network_ && classes > 0, "Predictor: needs a network and a positive number of classes, got ",
                classes);
}

const char* Predictor::engine() const {
  switch (engine_) {
    case Engine::Plan: return "plan";
    case Engine::CudaGraph: return "cuda_graph";
    case Engine::Eager: break;
  }
  return "eager";
}

Tensor Predictor::run(const Tensor& input) const {
  const Tensor logits = network_(input);
  PMSDSEN_CHECK(logits.defined() && logits.dim() == 4 && logits.size(0) == 1 && logits.size(1) == classes_ &&
                    logits.size(2) >= input.size(2) && logits.size(3) >= input.size(3),
                "predict: the network returned ", logits.defined() ? logits.str() : "nothing", " for an input ",
                input.str(), "; expected logits [1, classes, h, w] with ", classes_, " classes, at least ",
                input.size(2), " x ", input.size(3));
  return logits.to(device_);
}

Tensor Predictor::logits(const Tensor& image) const {
  check_image(image);
  autograd::NoGradGuard no_grad;
  return crop_logits(run(image.to(device_)), image.size(2), image.size(3));
}

Tensor Predictor::class_ids(const Tensor& image, double scale) const {
  check_image(image);
  PMSDSEN_CHECK(scale > 0, "predict: scale must be positive, got ", scale);
  autograd::NoGradGuard no_grad;
  const int64_t h = image.size(2), w = image.size(3);
  Tensor input = image.to(device_);
  if (scale != 1.0) input = ops::bilinear_scale(input, scale, true);
  const int64_t sh = input.size(2), sw = input.size(3);
  PMSDSEN_CHECK(sh > 0 && sw > 0, "predict: scale ", scale, " leaves nothing of a ", h, " x ", w, " image");
  Tensor logits = run(input);
  input = Tensor();
  if (sh == h && sw == w) {
    // The argmax at the padded size, then the ids cropped: K times less to copy.
    const Tensor ids = ops::argmax_channels(logits).cpu();
    return crop_top_left(ids.view({1, 1, ids.size(1), ids.size(2)}), h, w).view({1, h, w});
  }
  logits = ops::bilinear(crop_logits(logits, sh, sw), h, w, true);
  return ops::argmax_channels(logits).cpu();
}

}  // namespace pmsdsen
