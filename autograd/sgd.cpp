// Placeholder until the optimiser kernels land.
#include "autograd/sgd.h"

namespace pmsdsen {

Sgd::Sgd(std::vector<Tensor> params, SgdOptions options)
    : params_(std::move(params)), buffers_(params_.size()), options_(options) {}
void Sgd::step(double) { PMSDSEN_FAIL("sgd: not implemented yet"); }
void Sgd::zero_grad() {
  for (Tensor& p : params_) p.set_grad(Tensor());
}

}  // namespace pmsdsen
