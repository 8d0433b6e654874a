#include "layers/batchnorm.h"

#include "autograd/ops_norm.h"

namespace pmsdsen {

BatchNorm2d::BatchNorm2d(int64_t channels, double eps, double momentum)
    : channels_(channels), eps_(eps), momentum_(momentum) {
  PMSDSEN_CHECK(channels > 0, "BatchNorm2d: channels must be positive, got ", channels);
  weight_ = &register_parameter("weight", Tensor::ones({channels}));
  bias_ = &register_parameter("bias", Tensor::zeros({channels}));
  running_mean_ = &register_buffer("running_mean", Tensor::zeros({channels}));
  running_var_ = &register_buffer("running_var", Tensor::ones({channels}));
  num_batches_tracked_ = &register_buffer("num_batches_tracked", Tensor::zeros({}, DType::I64));
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  PMSDSEN_CHECK(x.dim() == 4 && x.size(1) == channels_, "BatchNorm2d(", channels_,
                "): expected [N, ", channels_, ", H, W], got ", x.str());
  const bool batch_stats = is_training() && !frozen_;
  if (batch_stats) num_batches_tracked_->data<int64_t>()[0] += 1;  // a host-side counter
  if (batch_stats && sync_)
    return ops::sync_batch_norm(x, *weight_, *bias_, *running_mean_, *running_var_, *sync_, momentum_, eps_);
  return ops::batch_norm(x, *weight_, *bias_, *running_mean_, *running_var_, batch_stats, momentum_,
                         eps_);
}

void freeze_batch_norm(Module& root, bool frozen) {
  if (auto* bn = dynamic_cast<BatchNorm2d*>(&root)) bn->set_frozen(frozen);
  for (const auto& [name, child] : root.children()) freeze_batch_norm(*child, frozen);
}

void sync_batch_norm(Module& root, comm::Communicator* comm) {
  if (auto* bn = dynamic_cast<BatchNorm2d*>(&root)) bn->set_sync(comm);
  for (const auto& [name, child] : root.children()) sync_batch_norm(*child, comm);
}

}  // namespace pmsdsen
