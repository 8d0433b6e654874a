#include "autograd/device_reduce.h"

#ifdef PMSDSEN_WITH_NCCL
#include "cuda/nccl_comm.h"
#endif

namespace pmsdsen::autograd {
namespace {

class HostReduce final : public DeviceReduce {
 public:
  HostReduce(const Tensor& t, comm::Communicator& comm) : target_(t) {
    // A CUDA tensor is reduced in a host copy (the copy waits for the stream).
    host_ = t.is_cuda() ? t.cpu() : t;
    request_ = comm.all_reduce_start(host_.raw_data(), host_.numel(), host_.dtype());
  }
  void progress() override {
    if (request_) request_->test();
  }
  void wait() override {
    if (!request_) return;
    request_->wait();
    request_.reset();
    if (target_.is_cuda()) target_.copy_(host_);
  }

 private:
  Tensor target_, host_;
  std::unique_ptr<comm::Request> request_;
};

class Done final : public DeviceReduce {
 public:
  void progress() override {}
  void wait() override {}
};

#ifdef PMSDSEN_WITH_NCCL
// Queued on the library stream: what follows on the stream sees the sum, no wait needed.
class NcclReduce final : public DeviceReduce {
 public:
  NcclReduce(const Tensor& t, comm::Communicator& comm) : target_(t) {
    cuda::nccl_for(comm).all_reduce(t.raw_data(), t.numel(), t.dtype());
  }
  void progress() override {}
  void wait() override {}

 private:
  Tensor target_;  // alive until the reduction is queued behind whatever frees it
};
#endif

}  // namespace

std::unique_ptr<DeviceReduce> device_all_reduce_start(const Tensor& t, comm::Communicator& comm) {
  check_defined(t, "device_all_reduce", "tensor");
  if (comm.size() == 1) return std::make_unique<Done>();
#ifdef PMSDSEN_WITH_NCCL
  if (t.is_cuda()) return std::make_unique<NcclReduce>(t, comm);
#endif
  return std::make_unique<HostReduce>(t, comm);
}

void device_all_reduce(const Tensor& t, comm::Communicator& comm) { device_all_reduce_start(t, comm)->wait(); }

std::string device_reduce_path(Device device) {
  if (!device.is_cuda()) return "MPI";
#ifdef PMSDSEN_WITH_NCCL
  return "NCCL";
#else
  return "MPI through host memory";
#endif
}

}  // namespace pmsdsen::autograd
