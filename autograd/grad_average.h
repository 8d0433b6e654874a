#pragma once
// Data-parallel gradient averaging, as PyTorch's DistributedDataParallel: each rank runs
// backward over its own shard of the batch, then every parameter's gradient becomes the
// mean over the ranks, so that the SGD steps of all ranks stay identical.
//
// Gradients travel in buckets (flat buffers of about bucket_bytes; parameters taken in
// reverse order, the order backward completes them). With overlap, a bucket's all-reduce
// starts as soon as its last gradient is complete, while backward goes on; buckets start
// in the same order on every rank (a bucket waits for the ones before it), as the
// collectives require. CPU tensors go through the communicator (MPI); CUDA tensors
// through NCCL when the build has it, otherwise through host memory.
//
//   GradAverager avg(model.parameters(), comm::world());
//   avg.begin();  backward(loss);  avg.finish();  sgd.step(lr);
//
// One process (size 1): begin and finish do nothing, the gradients stay as they are.
// A parameter without a gradient on a rank contributes zeros, and has the mean after.
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/comm.h"
#include "core/tensor.h"

namespace pmsdsen {

struct GradAverageOptions {
  int64_t bucket_bytes = int64_t{1} << 20;  // 25 MB in PyTorch; PMSDSEN has 3.7 MB in all
  bool overlap = true;                      // reduce buckets while backward runs
};

class GradAverager {
 public:
  GradAverager(std::vector<Tensor> params, comm::Communicator& comm, GradAverageOptions options = {});
  ~GradAverager();
  GradAverager(const GradAverager&) = delete;
  GradAverager& operator=(const GradAverager&) = delete;

  // Around one backward pass. begin() installs the hook on this thread's backward (with
  // overlap); finish() reduces what is left, waits, and sets every parameter's gradient
  // to the mean over ranks.
  void begin();
  void finish();

  int bucket_count() const;
  // Buckets whose reduction started before finish() in the last pass (the overlap).
  int started_during_backward() const { return started_early_; }

 private:
  struct Bucket;
  struct InFlight;
  void on_ready(const Tensor& leaf);
  void start_ready_buckets();
  void start(Bucket& b);

  std::vector<Tensor> params_;
  comm::Communicator& comm_;
  GradAverageOptions options_;
  std::vector<Bucket> buckets_;
  std::unordered_map<const TensorImpl*, size_t> index_;  // parameter -> its bucket
  size_t next_start_ = 0;
  int started_early_ = 0;
  bool in_pass_ = false;
  struct Hook;
  std::unique_ptr<Hook> hook_;
};

}  // namespace pmsdsen
