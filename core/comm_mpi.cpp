// The MPI communicator (core/comm.h). Compiled only when the build found MPI.
// The C interface only, whichever MPI: no C++ bindings to link.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

#include "core/comm.h"
#include "core/comm_watchdog.h"
#include "core/error.h"

namespace pmsdsen::comm {
namespace {

MPI_Datatype mpi_type(DType t) {
  switch (t) {
    case DType::F32: return MPI_FLOAT;
    case DType::F64: return MPI_DOUBLE;
    case DType::I32: return MPI_INT32_T;
    case DType::I64: return MPI_INT64_T;
    case DType::U8: return MPI_UINT8_T;
  }
  PMSDSEN_FAIL("MPI: unknown dtype");
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return MPI_SUM;
    case ReduceOp::Max: return MPI_MAX;
    case ReduceOp::Min: return MPI_MIN;
  }
  PMSDSEN_FAIL("MPI: unknown reduction");
}

const char* op_name(ReduceOp op) { return op == ReduceOp::Sum ? "sum" : op == ReduceOp::Max ? "max" : "min"; }

// MPI counts are int; the library's buffers are far below 2^31 elements.
int mpi_count(int64_t n, const char* what) {
  PMSDSEN_CHECK(n >= 0 && n <= INT_MAX, what, ": count ", n, " outside [0, 2^31) (MPI counts are int)");
  return static_cast<int>(n);
}

void check(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  PMSDSEN_FAIL(rank_prefix(), call, " failed: ", std::string(text, static_cast<size_t>(len)));
}

class MpiRequest final : public Request {
 public:
  MpiRequest(MPI_Request r, std::string what) : request_(r), what_(std::move(what)) {}
  ~MpiRequest() override {
    if (request_ != MPI_REQUEST_NULL) wait();  // the buffer must not be released under MPI
  }
  bool test() override {
    if (request_ == MPI_REQUEST_NULL) return true;
    int done = 0;
    check(MPI_Test(&request_, &done, MPI_STATUS_IGNORE), "MPI_Test");
    return done != 0;
  }
  void wait() override {
    if (request_ == MPI_REQUEST_NULL) return;
    Watch watch(what_);
    check(MPI_Wait(&request_, MPI_STATUS_IGNORE), "MPI_Wait");
  }

 private:
  MPI_Request request_;
  std::string what_;
};

class Mpi final : public Communicator {
 public:
  explicit Mpi(const Launch& launch) {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
      // MULTIPLE: the watchdog thread may call MPI_Abort while the main thread waits.
      int provided = 0;
      check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided), "MPI_Init_thread");
      owns_mpi_ = true;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    PMSDSEN_CHECK(size_ == launch.size && rank_ == launch.rank, "MPI sees rank ", rank_, " of ", size_,
                  ", but the launcher said rank ", launch.rank, " of ", launch.size, " (", launch.variable,
                  "): is this pmsdsen linked with the MPI of the mpirun that started it?");
  }
  ~Mpi() override {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (owns_mpi_ && !finalised) {
      Watch watch("MPI_Finalize");
      MPI_Finalize();
    }
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string describe() const override {
    return str("MPI rank ", rank_, " of ", size_, " (", mpi_library_version(), ")");
  }

  void all_reduce(void* data, int64_t count, DType dtype, ReduceOp op) override {
    const int n = mpi_count(count, "all_reduce");
    Watch watch(describe_reduce(count, dtype, op));
    check(MPI_Allreduce(MPI_IN_PLACE, data, n, mpi_type(dtype), mpi_op(op), MPI_COMM_WORLD), "MPI_Allreduce");
  }
  std::unique_ptr<Request> all_reduce_start(void* data, int64_t count, DType dtype, ReduceOp op) override {
    const int n = mpi_count(count, "all_reduce_start");
    MPI_Request r = MPI_REQUEST_NULL;
    check(MPI_Iallreduce(MPI_IN_PLACE, data, n, mpi_type(dtype), mpi_op(op), MPI_COMM_WORLD, &r),
          "MPI_Iallreduce");
    return std::make_unique<MpiRequest>(r, describe_reduce(count, dtype, op));
  }
  void broadcast(void* data, int64_t bytes, int root) override {
    const int n = mpi_count(bytes, "broadcast");
    PMSDSEN_CHECK(root >= 0 && root < size_, "broadcast: root ", root, " is not a rank of ", size_);
    Watch watch(str("broadcast of ", bytes, " bytes from rank ", root));
    check(MPI_Bcast(data, n, MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
  }
  void all_gather(const void* send, void* recv, int64_t bytes) override {
    const int n = mpi_count(bytes, "all_gather");
    Watch watch(str("all_gather of ", bytes, " bytes"));
    check(MPI_Allgather(send, n, MPI_BYTE, recv, n, MPI_BYTE, MPI_COMM_WORLD), "MPI_Allgather");
  }
  void barrier() override {
    Watch watch("barrier");
    check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
  }
  [[noreturn]] void abort(int exit_code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);
  }

 private:
  static std::string describe_reduce(int64_t count, DType dtype, ReduceOp op) {
    return str("all_reduce (", op_name(op), ") of ", count, " ", dtype_name(dtype));
  }

  int rank_ = 0, size_ = 1;
  bool owns_mpi_ = false;
};

}  // namespace

std::string mpi_library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(text, &len);
  std::string s(text, static_cast<size_t>(len));
  const size_t cut = s.find_first_of(",\n");
  return s.substr(0, cut);
}

namespace detail {
std::unique_ptr<Communicator> mpi_world(const Launch& launch) { return std::make_unique<Mpi>(launch); }
}  // namespace detail

}  // namespace pmsdsen::comm
