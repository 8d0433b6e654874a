#include "core/comm.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/error.h"

namespace pmsdsen::comm {
namespace {

class Done final : public Request {
 public:
  bool test() override { return true; }
  void wait() override {}
};

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string describe() const override { return "one process"; }
  void all_reduce(void*, int64_t count, DType, ReduceOp) override { check_count(count, "all_reduce"); }
  std::unique_ptr<Request> all_reduce_start(void*, int64_t count, DType, ReduceOp) override {
    check_count(count, "all_reduce_start");
    return std::make_unique<Done>();
  }
  void broadcast(void*, int64_t bytes, int root) override {
    check_count(bytes, "broadcast");
    PMSDSEN_CHECK(root == 0, "broadcast: root ", root, " is not a rank of one process");
  }
  void all_gather(const void* send, void* recv, int64_t bytes) override {
    check_count(bytes, "all_gather");
    if (bytes > 0 && send != recv) std::memmove(recv, send, static_cast<size_t>(bytes));
  }
  void barrier() override {}
  [[noreturn]] void abort(int exit_code) override { std::_Exit(exit_code); }

 private:
  static void check_count(int64_t n, const char* op) { PMSDSEN_CHECK(n >= 0, op, ": negative count ", n); }
};

// The integer value of environment variable `name`, or -1 when unset or not a number.
int env_int(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return -1;
  char* end = nullptr;
  errno = 0;
  const long x = std::strtol(v, &end, 10);
  if (errno != 0 || *end != '\0' || x < 0 || x > (1 << 24)) return -1;
  return static_cast<int>(x);
}

std::atomic<double> g_timeout{300.0};
std::atomic<int> g_world_size{0};  // 0 until world() has run
std::atomic<int> g_world_rank{0};

}  // namespace

std::unique_ptr<Communicator> single_process() { return std::make_unique<SingleProcess>(); }

Launch launch_from_environment() {
  static const char* const kVariables[][2] = {
      {"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"},  // Open MPI's mpirun
      {"PMI_SIZE", "PMI_RANK"},                          // MPICH (Hydra), Intel MPI, srun --mpi=pmi2
      {"MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_RANK"},    // MVAPICH
  };
  Launch l;
  for (const auto& v : kVariables) {
    const int size = env_int(v[0]);
    if (size < 1) continue;
    l.size = size;
    l.rank = std::max(0, env_int(v[1]));
    l.variable = v[0];
    break;
  }
  for (const char* local : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "MV2_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"}) {
    l.local_rank = env_int(local);
    if (l.local_rank >= 0) break;
  }
  return l;
}

Communicator& world() {
  static std::once_flag once;
  static std::unique_ptr<Communicator> w;
  std::call_once(once, [] {
    const Launch launch = launch_from_environment();
    if (launch.size > 1) {
#ifdef PMSDSEN_WITH_MPI
      w = detail::mpi_world(launch);
#else
      PMSDSEN_FAIL("this process was started as rank ", launch.rank, " of ", launch.size, " (", launch.variable,
                   "), but this pmsdsen was built without MPI, so the ranks cannot work together: install MPI "
                   "(tools/setup.sh: libopenmpi-dev) and rebuild, or run without mpirun");
#endif
    } else {
      w = single_process();
    }
    g_world_rank = w->rank();
    g_world_size = w->size();
  });
  PMSDSEN_CHECK(w != nullptr, "the communicator could not be set up (see the first error)");
  return *w;
}

bool world_is_distributed() { return g_world_size.load() > 1; }

bool mpi_compiled() {
#ifdef PMSDSEN_WITH_MPI
  return true;
#else
  return false;
#endif
}

#ifndef PMSDSEN_WITH_MPI
std::string mpi_library_version() { return ""; }
#endif

void set_timeout(double seconds) {
  PMSDSEN_CHECK(seconds > 0 && seconds <= 1e7, "collective time-out: expected seconds in (0, 1e7], got ", seconds);
  g_timeout = seconds;
}

double timeout() { return g_timeout.load(); }

std::string rank_prefix() {
  const int size = g_world_size.load();
  return size > 1 ? str("rank ", g_world_rank.load(), " of ", size, ": ") : std::string();
}

}  // namespace pmsdsen::comm
