#pragma once
// NCCL, for reducing CUDA tensors across the ranks of a data-parallel run (one GPU a
// rank). Set up over the host communicator: rank 0's unique id is broadcast over MPI,
// then every rank joins. Collectives are queued on the library's stream, so they are
// ordered with the kernels around them; a queued collective is watched (core/
// comm_watchdog.h) until the GPU finishes it. Compiled when the build has NCCL
// (PMSDSEN_WITH_NCCL): the real one, or the emulated GPU's stand-in over MPI.
#include <cstdint>
#include <memory>
#include <string>

#include "core/comm.h"
#include "core/dtype.h"

namespace pmsdsen::cuda {

class NcclComm {
 public:
  // A collective over `host`: every rank calls it, each with its own GPU current.
  explicit NcclComm(comm::Communicator& host);
  ~NcclComm();
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }

  // In place on device memory; returns once queued on the library stream.
  void all_reduce(void* data, int64_t count, DType dtype, comm::ReduceOp op = comm::ReduceOp::Sum);
  void broadcast(void* data, int64_t bytes, int root);

 private:
  void watch_queued(std::string what);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, size_ = 1;
};

// The NCCL communicator over `host`, created on first call (a collective: every rank
// makes its first call at the same point) and kept for the process.
NcclComm& nccl_for(comm::Communicator& host);

// "NCCL 2.28.3" (the library's own version), or the emulated stand-in's.
std::string nccl_version();

}  // namespace pmsdsen::cuda
