#pragma once
// Communication between the processes of a data-parallel run, over host memory. A
// Communicator connects `size()` ranks; every rank calls the same collectives in the same
// order with the same counts. Two implementations: one process alone (every collective
// is a no-op or a copy) and MPI (core/comm_mpi.cpp, when the build found MPI), which
// `world()` picks when a launcher (mpirun) started this process as one of several.
//
// No collective waits forever: each blocking wait is watched (core/comm_watchdog.h) and,
// after timeout() seconds, every rank is stopped with a message naming the collective.
// CUDA tensors go through NCCL instead (cuda/nccl_comm.h), set up over this one.
#include <cstdint>
#include <memory>
#include <string>

#include "core/dtype.h"

namespace pmsdsen::comm {

enum class ReduceOp { Sum, Max, Min };

// A non-blocking collective in flight. Its buffer must stay alive and untouched until
// test() returned true or wait() returned.
class Request {
 public:
  virtual ~Request() = default;
  virtual bool test() = 0;  // moves it along; true once complete
  virtual void wait() = 0;  // blocks until complete (watched)
};

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "one process", "MPI rank 1 of 2 (Open MPI v4.1.4)".
  virtual std::string describe() const = 0;

  // In place: every rank ends with the element-wise reduction of all ranks' `data`.
  virtual void all_reduce(void* data, int64_t count, DType dtype, ReduceOp op = ReduceOp::Sum) = 0;
  virtual std::unique_ptr<Request> all_reduce_start(void* data, int64_t count, DType dtype,
                                                    ReduceOp op = ReduceOp::Sum) = 0;
  // Root's `bytes` bytes to every rank.
  virtual void broadcast(void* data, int64_t bytes, int root) = 0;
  // recv (size() * bytes) gets rank r's `bytes` at offset r * bytes, on every rank.
  virtual void all_gather(const void* send, void* recv, int64_t bytes) = 0;
  virtual void barrier() = 0;
  // Ends this process and every other rank's with `exit_code`: the way out of a
  // distributed run after an error on one rank (a normal exit would leave the others
  // waiting in their next collective).
  [[noreturn]] virtual void abort(int exit_code) = 0;
};

// Typed conveniences.
template <class T>
void all_reduce(Communicator& c, T* data, int64_t count, ReduceOp op = ReduceOp::Sum) {
  c.all_reduce(data, count, dtype_of<T>(), op);
}
template <class T>
T all_reduce_value(Communicator& c, T value, ReduceOp op = ReduceOp::Sum) {
  c.all_reduce(&value, 1, dtype_of<T>(), op);
  return value;
}

std::unique_ptr<Communicator> single_process();

// How a launcher started this process, from its environment (Open MPI's
// OMPI_COMM_WORLD_SIZE/RANK, MPICH's and Slurm's PMI_SIZE/RANK, MVAPICH's
// MV2_COMM_WORLD_SIZE/RANK); size 1 and an empty launcher when none did. local_rank:
// the rank among the processes of this machine (OMPI_COMM_WORLD_LOCAL_RANK,
// MPI_LOCALRANKID, MV2_COMM_WORLD_LOCAL_RANK, SLURM_LOCALID), -1 when none is told.
struct Launch {
  int rank = 0, size = 1;
  int local_rank = -1;
  std::string variable;  // the variable that told the size, "" when none
};
Launch launch_from_environment();

// All processes of this run. The first call decides: under a launcher with more than
// one process, MPI (MPI_Init_thread, freed at exit); otherwise one process, MPI never
// initialised, exactly as a plain run. Throws when a launcher started several processes
// and this build has no MPI (they would each train alone into one folder).
Communicator& world();
bool world_is_distributed();  // world() was set up, with more than one rank

bool mpi_compiled();
// "Open MPI v4.1.4, ..." (the library's own words), or "" without MPI.
std::string mpi_library_version();

// Seconds a blocking collective may wait for the other ranks before every rank is
// stopped. Default 300.
void set_timeout(double seconds);
double timeout();

// "rank 1 of 2: " in a distributed run, "" otherwise: the prefix of messages a rank prints.
std::string rank_prefix();

namespace detail {
std::unique_ptr<Communicator> mpi_world(const Launch& launch);  // core/comm_mpi.cpp
}

}  // namespace pmsdsen::comm
