#include "autograd/sgd.h"

#include "autograd/grad_mode.h"
#include "core/cpu/optim.h"

#ifdef PMSDSEN_WITH_CUDA
#include "cuda/optim.h"
#endif

namespace pmsdsen {

Sgd::Sgd(std::vector<Tensor> params, SgdOptions options)
    : params_(std::move(params)), buffers_(params_.size()), options_(options) {
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    PMSDSEN_CHECK(p.defined() && is_floating(p.dtype()), "sgd: parameter ", i, " is ",
                  p.defined() ? p.str() : std::string("undefined"), "; expected a float tensor");
  }
  PMSDSEN_CHECK(options_.momentum >= 0.0 && options_.weight_decay >= 0.0, "sgd: momentum ",
                options_.momentum, " and weight decay ", options_.weight_decay, " must not be negative");
}

void Sgd::step(double lr) {
  autograd::NoGradGuard no_grad;
  const bool momentum = options_.momentum != 0.0;
  std::vector<cpu::SgdSlot<float>> cpu32;
  std::vector<cpu::SgdSlot<double>> cpu64;
#ifdef PMSDSEN_WITH_CUDA
  std::vector<cuda::SgdSlot> gpu;
#endif
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    PMSDSEN_CHECK(g.shape() == p.shape() && g.dtype() == p.dtype() && g.device() == p.device(),
                  "sgd: gradient ", g.str(), " of parameter ", i, " does not match the parameter ", p.str());
    Tensor& buf = buffers_[i];
    bool first = false;
    if (momentum) {
      if (!buf.defined()) {
        buf = Tensor::empty_like(p);
        first = true;
      }
      PMSDSEN_CHECK(buf.shape() == p.shape() && buf.dtype() == p.dtype() && buf.device() == p.device(),
                    "sgd: momentum buffer ", buf.str(), " of parameter ", i, " does not match the parameter ",
                    p.str());
    }
    if (p.is_cuda()) {
#ifdef PMSDSEN_WITH_CUDA
      PMSDSEN_CHECK(p.dtype() == DType::F32, "sgd: CUDA parameters must be float32, got ", p.str());
      gpu.push_back({p.data<float>(), g.data<float>(), momentum ? buf.data<float>() : nullptr, p.numel(),
                     first ? 1 : 0});
#else
      PMSDSEN_FAIL("sgd: this build has no CUDA backend");
#endif
    } else if (p.dtype() == DType::F32) {
      cpu32.push_back({p.data<float>(), g.data<float>(), momentum ? buf.data<float>() : nullptr, p.numel(), first});
    } else {
      cpu64.push_back({p.data<double>(), g.data<double>(), momentum ? buf.data<double>() : nullptr, p.numel(),
                       first});
    }
  }
  const double m = options_.momentum, wd = options_.weight_decay;
  if (!cpu32.empty()) cpu::sgd_step<float>(cpu32.data(), static_cast<int64_t>(cpu32.size()), lr, m, wd);
  if (!cpu64.empty()) cpu::sgd_step<double>(cpu64.data(), static_cast<int64_t>(cpu64.size()), lr, m, wd);
#ifdef PMSDSEN_WITH_CUDA
  if (!gpu.empty()) {
    if (!fused_) fused_ = std::make_shared<cuda::FusedSgd>();
    fused_->step(gpu, lr, m, wd);
  }
#endif
}

void Sgd::zero_grad() {
  for (Tensor& p : params_) p.set_grad(Tensor());
}

}  // namespace pmsdsen
