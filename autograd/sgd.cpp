#include "autograd/sgd.h"

#include <type_traits>

#include "autograd/backend.h"
#include "autograd/grad_mode.h"

namespace pmsdsen {

using autograd::CpuBackend;

namespace {

// One backend's parameters of a step, and the runner that updates them (kept across steps).
template <class B>
struct Group {
  std::vector<typename B::SgdSlot> slots;
  std::unique_ptr<typename B::SgdRunner> runner;

  void run(double lr, double momentum, double weight_decay) {
    if (slots.empty()) return;
    if (!runner) runner = std::make_unique<typename B::SgdRunner>();
    runner->step(slots, lr, momentum, weight_decay);
    slots.clear();
  }
};

}  // namespace

struct Sgd::Runners {
  Group<CpuBackend<float>> f32;
  Group<CpuBackend<double>> f64;
#ifdef PMSDSEN_WITH_CUDA
  Group<autograd::CudaBackend> cuda;
#endif

  template <class B>
  Group<B>& of() {
    if constexpr (std::is_same_v<B, CpuBackend<float>>) return f32;
    else if constexpr (std::is_same_v<B, CpuBackend<double>>) return f64;
#ifdef PMSDSEN_WITH_CUDA
    else return cuda;
#endif
  }
};

Sgd::Sgd(std::vector<Tensor> params, SgdOptions options)
    : params_(std::move(params)), buffers_(params_.size()), options_(options), runners_(std::make_shared<Runners>()) {
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
    autograd::on_backend(p, "sgd", [&](auto b) {
      using B = decltype(b);
      using T = typename B::Scalar;
      runners_->of<B>().slots.push_back(
          B::sgd_slot(p.data<T>(), g.data<T>(), momentum ? buf.data<T>() : nullptr, p.numel(), first));
    });
  }
  const double m = options_.momentum, wd = options_.weight_decay;
  runners_->f32.run(lr, m, wd);
  runners_->f64.run(lr, m, wd);
#ifdef PMSDSEN_WITH_CUDA
  runners_->cuda.run(lr, m, wd);
#endif
}

void Sgd::zero_grad() {
  for (Tensor& p : params_) p.set_grad(Tensor());
}

}  // namespace pmsdsen
