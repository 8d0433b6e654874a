// The NCCL stand-in of the emulated GPU (include/nccl.h): collectives over MPI through
// host copies of the device buffers. Work on the emulated stream runs when queued, so a
// collective can copy at once.
#include "nccl.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#ifdef PMSDSEN_EMU_NCCL_MPI
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

struct ncclComm {
  int rank = 0, size = 1;
};

namespace {

thread_local std::string g_last_error;

ncclResult_t fail(ncclResult_t r, const std::string& why) {
  g_last_error = why;
  return r;
}

size_t type_size(ncclDataType_t t) {
  switch (t) {
    case ncclUint8: return 1;
    case ncclInt32: case ncclFloat32: return 4;
    case ncclInt64: case ncclFloat64: return 8;
  }
  return 0;
}

int world_size() {
#ifdef PMSDSEN_EMU_NCCL_MPI
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (initialised) {
    int n = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
  }
#endif
  return 1;
}

#ifdef PMSDSEN_EMU_NCCL_MPI
MPI_Datatype mpi_type(ncclDataType_t t) {
  switch (t) {
    case ncclUint8: return MPI_UINT8_T;
    case ncclInt32: return MPI_INT32_T;
    case ncclInt64: return MPI_INT64_T;
    case ncclFloat32: return MPI_FLOAT;
    case ncclFloat64: return MPI_DOUBLE;
  }
  return MPI_DATATYPE_NULL;
}
#endif

// Element-wise reduction of one rank's values into the accumulator (one rank: nothing).
ncclResult_t reduce_host(std::vector<char>& buf, size_t count, ncclDataType_t t, ncclRedOp_t op, ncclComm* c) {
  if (c->size == 1) return ncclSuccess;
#ifdef PMSDSEN_EMU_NCCL_MPI
  MPI_Op mop = op == ncclSum ? MPI_SUM : op == ncclProd ? MPI_PROD : op == ncclMax ? MPI_MAX : MPI_MIN;
  if (count > static_cast<size_t>(INT32_MAX)) return fail(ncclInvalidArgument, "count above 2^31 (MPI counts are int)");
  if (MPI_Allreduce(MPI_IN_PLACE, buf.data(), static_cast<int>(count), mpi_type(t), mop, MPI_COMM_WORLD) !=
      MPI_SUCCESS)
    return fail(ncclSystemError, "MPI_Allreduce failed");
  return ncclSuccess;
#else
  (void)buf, (void)count, (void)t, (void)op;
  return fail(ncclInvalidUsage, "several ranks need MPI, which this build lacks");
#endif
}

}  // namespace

ncclResult_t ncclGetVersion(int* version) {
  if (!version) return fail(ncclInvalidArgument, "ncclGetVersion: null version");
  *version = NCCL_MAJOR * 10000 + NCCL_MINOR * 100 + NCCL_PATCH;
  return ncclSuccess;
}

ncclResult_t ncclGetUniqueId(ncclUniqueId* id) {
  if (!id) return fail(ncclInvalidArgument, "ncclGetUniqueId: null id");
  std::memset(id->internal, 0, sizeof id->internal);
  std::strcpy(id->internal, "pmsdsen-emulated-nccl");
  return ncclSuccess;
}

ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId id, int rank) {
  if (!comm) return fail(ncclInvalidArgument, "ncclCommInitRank: null comm");
  if (std::strcmp(id.internal, "pmsdsen-emulated-nccl") != 0)
    return fail(ncclInvalidArgument, "ncclCommInitRank: the unique id did not come from ncclGetUniqueId (rank 0's, "
                                     "broadcast to every rank)");
  if (nranks != world_size() || rank < 0 || rank >= nranks)
    return fail(ncclInvalidArgument, "ncclCommInitRank: rank " + std::to_string(rank) + " of " +
                                         std::to_string(nranks) + ", but the emulation's ranks are MPI's " +
                                         std::to_string(world_size()));
  *comm = new ncclComm{rank, nranks};
  return ncclSuccess;
}

ncclResult_t ncclCommDestroy(ncclComm_t comm) {
  delete comm;
  return ncclSuccess;
}

ncclResult_t ncclCommAbort(ncclComm_t comm) { return ncclCommDestroy(comm); }

ncclResult_t ncclCommCount(const ncclComm_t comm, int* count) {
  if (!comm || !count) return fail(ncclInvalidArgument, "ncclCommCount: null argument");
  *count = comm->size;
  return ncclSuccess;
}

ncclResult_t ncclCommUserRank(const ncclComm_t comm, int* rank) {
  if (!comm || !rank) return fail(ncclInvalidArgument, "ncclCommUserRank: null argument");
  *rank = comm->rank;
  return ncclSuccess;
}

ncclResult_t ncclAllReduce(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t datatype, ncclRedOp_t op,
                           ncclComm_t comm, cudaStream_t stream) {
  if (!comm) return fail(ncclInvalidArgument, "ncclAllReduce: null comm");
  const size_t bytes = count * type_size(datatype);
  if (type_size(datatype) == 0) return fail(ncclInvalidArgument, "ncclAllReduce: unknown datatype");
  if (bytes == 0) return ncclSuccess;
  std::vector<char> host(bytes);
  // The copies check that the buffers are live device memory.
  if (cudaMemcpyAsync(host.data(), sendbuff, bytes, cudaMemcpyDeviceToHost, stream) != cudaSuccess ||
      cudaStreamSynchronize(stream) != cudaSuccess)
    return fail(ncclUnhandledCudaError, "ncclAllReduce: sendbuff is not device memory of that size");
  if (ncclResult_t r = reduce_host(host, count, datatype, op, comm); r != ncclSuccess) return r;
  if (cudaMemcpyAsync(recvbuff, host.data(), bytes, cudaMemcpyHostToDevice, stream) != cudaSuccess)
    return fail(ncclUnhandledCudaError, "ncclAllReduce: recvbuff is not device memory of that size");
  return ncclSuccess;
}

ncclResult_t ncclBroadcast(const void* sendbuff, void* recvbuff, size_t count, ncclDataType_t datatype, int root,
                           ncclComm_t comm, cudaStream_t stream) {
  if (!comm) return fail(ncclInvalidArgument, "ncclBroadcast: null comm");
  if (root < 0 || root >= comm->size) return fail(ncclInvalidArgument, "ncclBroadcast: root out of range");
  const size_t bytes = count * type_size(datatype);
  if (bytes == 0) return ncclSuccess;
  std::vector<char> host(bytes);
  if (comm->rank == root && (cudaMemcpyAsync(host.data(), sendbuff, bytes, cudaMemcpyDeviceToHost, stream) !=
                                 cudaSuccess ||
                             cudaStreamSynchronize(stream) != cudaSuccess))
    return fail(ncclUnhandledCudaError, "ncclBroadcast: sendbuff is not device memory of that size");
#ifdef PMSDSEN_EMU_NCCL_MPI
  if (comm->size > 1 && (bytes > static_cast<size_t>(INT32_MAX) ||
                         MPI_Bcast(host.data(), static_cast<int>(bytes), MPI_BYTE, root, MPI_COMM_WORLD) != MPI_SUCCESS))
    return fail(ncclSystemError, "MPI_Bcast failed");
#endif
  if (cudaMemcpyAsync(recvbuff, host.data(), bytes, cudaMemcpyHostToDevice, stream) != cudaSuccess)
    return fail(ncclUnhandledCudaError, "ncclBroadcast: recvbuff is not device memory of that size");
  return ncclSuccess;
}

const char* ncclGetErrorString(ncclResult_t result) {
  switch (result) {
    case ncclSuccess: return "no error";
    case ncclUnhandledCudaError: return "unhandled cuda error";
    case ncclSystemError: return "unhandled system error";
    case ncclInternalError: return "internal error";
    case ncclInvalidArgument: return "invalid argument";
    case ncclInvalidUsage: return "invalid usage";
    case ncclRemoteError: return "remote process exited or there was a network error";
    case ncclInProgress: return "NCCL operation in progress";
  }
  return "unknown result code";
}

const char* ncclGetLastError(ncclComm_t) { return g_last_error.c_str(); }
