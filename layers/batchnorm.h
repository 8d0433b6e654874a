#pragma once
// BatchNorm2d as PyTorch's: weight 1, bias 0, running_mean 0, running_var 1,
// num_batches_tracked (int64). Frozen: evaluation statistics and no updates even while
// the model trains (the authors' second Cityscapes stage); the affine parameters stay
// trainable unless their requires_grad is switched off.
#include "core/comm.h"
#include "layers/module.h"

namespace pmsdsen {

class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int64_t channels, double eps = 1e-5, double momentum = 0.1);
  Tensor forward(const Tensor& x) override;
  void set_frozen(bool frozen) { frozen_ = frozen; }
  // Data parallelism: while training (not frozen), statistics over the batch of every
  // rank of `comm` (ops::sync_batch_norm); nullptr: this process's batch alone.
  void set_sync(comm::Communicator* comm) { sync_ = comm; }
  comm::Communicator* sync() const { return sync_; }
  bool frozen() const { return frozen_; }
  double eps() const { return eps_; }
  int64_t channels() const { return channels_; }
  std::string type_name() const override { return "BatchNorm2d"; }

 private:
  int64_t channels_;
  double eps_, momentum_;
  bool frozen_ = false;
  comm::Communicator* sync_ = nullptr;
  Tensor* weight_;
  Tensor* bias_;
  Tensor* running_mean_;
  Tensor* running_var_;
  Tensor* num_batches_tracked_;
};

// Applies `frozen` to every BatchNorm2d inside `root`.
void freeze_batch_norm(Module& root, bool frozen = true);
// Applies set_sync(comm) to every BatchNorm2d inside `root` (train --sync-bn).
void sync_batch_norm(Module& root, comm::Communicator* comm);

}  // namespace pmsdsen
