#include "cuda/nccl_comm.h"

#include <nccl.h>

#include <map>
#include <mutex>
#include <type_traits>

#include "core/comm_watchdog.h"
#include "core/cuda_env.h"

namespace pmsdsen::cuda {
namespace {

void check(ncclResult_t r, const char* call) {
  if (r == ncclSuccess) return;
  PMSDSEN_FAIL(comm::rank_prefix(), call, " failed: ", ncclGetErrorString(r), " (", ncclGetLastError(nullptr), ")");
}

ncclDataType_t nccl_type(DType t) {
  switch (t) {
    case DType::F32: return ncclFloat32;
    case DType::F64: return ncclFloat64;
    case DType::I32: return ncclInt32;
    case DType::I64: return ncclInt64;
    case DType::U8: return ncclUint8;
  }
  PMSDSEN_FAIL("NCCL: unknown dtype");
}

ncclRedOp_t nccl_op(comm::ReduceOp op) {
  switch (op) {
    case comm::ReduceOp::Sum: return ncclSum;
    case comm::ReduceOp::Max: return ncclMax;
    case comm::ReduceOp::Min: return ncclMin;
  }
  PMSDSEN_FAIL("NCCL: unknown reduction");
}

}  // namespace

struct NcclComm::Impl {
  ncclComm_t comm = nullptr;
};

NcclComm::NcclComm(comm::Communicator& host) : impl_(std::make_unique<Impl>()) {
  rank_ = host.rank();
  size_ = host.size();
  ncclUniqueId id;
  if (rank_ == 0) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
  host.broadcast(&id, sizeof id, 0);
  comm::Watch watch(str("ncclCommInitRank (rank ", rank_, " of ", size_, ")"));
  check(ncclCommInitRank(&impl_->comm, size_, id, rank_), "ncclCommInitRank");
}

NcclComm::~NcclComm() {
  if (impl_->comm) ncclCommDestroy(impl_->comm);
}

void NcclComm::all_reduce(void* data, int64_t count, DType dtype, comm::ReduceOp op) {
  PMSDSEN_CHECK(count >= 0, "NCCL all_reduce: negative count ", count);
  if (count == 0) return;
  check(ncclAllReduce(data, data, static_cast<size_t>(count), nccl_type(dtype), nccl_op(op), impl_->comm,
                      cuda_env::stream()),
        "ncclAllReduce");
  watch_queued(str("NCCL all_reduce of ", count, " ", dtype_name(dtype)));
}

void NcclComm::broadcast(void* data, int64_t bytes, int root) {
  PMSDSEN_CHECK(bytes >= 0, "NCCL broadcast: negative size ", bytes);
  PMSDSEN_CHECK(root >= 0 && root < size_, "NCCL broadcast: root ", root, " is not a rank of ", size_);
  if (bytes == 0) return;
  check(ncclBroadcast(data, data, static_cast<size_t>(bytes), ncclUint8, root, impl_->comm, cuda_env::stream()),
        "ncclBroadcast");
  watch_queued(str("NCCL broadcast of ", bytes, " bytes from rank ", root));
}

// A GPU waiting in a collective for a dead rank hangs its stream, and the host with it
// at its next synchronisation: the watchdog polls an event recorded after the collective.
// (The emulated GPU runs the collective when queued: nothing is left to watch.)
void NcclComm::watch_queued(std::string what) {
#ifndef PMSDSEN_CUDA_EMULATE
  cudaEvent_t event = nullptr;
  PMSDSEN_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  PMSDSEN_CUDA_CHECK(cudaEventRecord(event, cuda_env::stream()));
  auto owner = std::shared_ptr<std::remove_pointer_t<cudaEvent_t>>(event, [](cudaEvent_t e) { cudaEventDestroy(e); });
  comm::watch(std::move(what), [owner] { return cudaEventQuery(owner.get()) != cudaErrorNotReady; });
#else
  (void)what;
#endif
}

NcclComm& nccl_for(comm::Communicator& host) {
  static std::mutex mutex;
  static std::map<comm::Communicator*, std::unique_ptr<NcclComm>>* comms =
      new std::map<comm::Communicator*, std::unique_ptr<NcclComm>>;  // never destroyed: MPI may be gone at exit
  std::lock_guard<std::mutex> lock(mutex);
  auto& c = (*comms)[&host];
  if (!c) c = std::make_unique<NcclComm>(host);
  return *c;
}

std::string nccl_version() {
  int v = 0;
  check(ncclGetVersion(&v), "ncclGetVersion");
  // NCCL >= 2.9 encodes major*10000 + minor*100 + patch.
  return str("NCCL ", v / 10000, ".", (v / 100) % 100, ".", v % 100
#ifdef PMSDSEN_CUDA_EMULATE
             , " (the emulated stand-in, over MPI)"
#endif
  );
}

}  // namespace pmsdsen::cuda
