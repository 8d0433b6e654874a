#pragma once
// A sum over the ranks of a whole tensor, in place, on whichever device it lives: CPU
// tensors by the communicator (MPI), CUDA tensors by NCCL when the build has it
// (cuda/nccl_comm.h, set up on first use over the communicator), otherwise copied
// through host memory. Every rank must make the same calls in the same order.
#include <memory>

#include "core/comm.h"
#include "core/tensor.h"

namespace pmsdsen::autograd {

class DeviceReduce {
 public:
  virtual ~DeviceReduce() = default;
  virtual void progress() = 0;  // lets MPI move a non-blocking reduction along
  virtual void wait() = 0;      // the tensor holds the sum after this
};

// `t` must stay alive and untouched until wait() returned.
std::unique_ptr<DeviceReduce> device_all_reduce_start(const Tensor& t, comm::Communicator& comm);
void device_all_reduce(const Tensor& t, comm::Communicator& comm);

// "MPI", "NCCL" or "MPI through host memory": what reduces tensors on `device`.
std::string device_reduce_path(Device device);

}  // namespace pmsdsen::autograd
