// core/comm: the single-process communicator, the launcher's environment, the collective
// time-out. The MPI communicator's own tests run under mpirun (tests/mpi/).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "core/comm.h"
#include "core/comm_watchdog.h"
#include "tests/test_util.h"

namespace pmsdsen::comm {
namespace {

TEST(Comm, SingleProcessCollectivesLeaveDataAsItIs) {
  auto c = single_process();
  EXPECT_EQ(c->rank(), 0);
  EXPECT_EQ(c->size(), 1);
  EXPECT_EQ(c->describe(), "one process");
  std::vector<float> x{1.5f, -2.f};
  all_reduce(*c, x.data(), 2);
  EXPECT_EQ(x, (std::vector<float>{1.5f, -2.f}));
  EXPECT_EQ(all_reduce_value<int64_t>(*c, 7, ReduceOp::Max), 7);
  auto r = c->all_reduce_start(x.data(), 2, DType::F32);
  EXPECT_TRUE(r->test());
  r->wait();
  c->broadcast(x.data(), 8, 0);
  const int32_t mine = 42;
  int32_t gathered = 0;
  c->all_gather(&mine, &gathered, sizeof mine);
  EXPECT_EQ(gathered, 42);
  c->barrier();
  EXPECT_NE(test::error_of([&] { c->broadcast(x.data(), 8, 1); }).find("broadcast: root 1 is not a rank"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { c->all_reduce(x.data(), -1, DType::F32); }).find("all_reduce: negative count -1"),
            std::string::npos);
}

struct ScopedEnv {
  std::vector<std::string> names;
  void set(const char* name, const char* value) {
    setenv(name, value, 1);
    names.push_back(name);
  }
  ~ScopedEnv() {
    for (const auto& n : names) unsetenv(n.c_str());
  }
};

TEST(Comm, LaunchIsReadFromTheLaunchersVariables) {
  const char* all[] = {"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMI_SIZE", "PMI_RANK", "MV2_COMM_WORLD_SIZE",
                       "MV2_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID",
                       "MV2_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"};
  for (const char* v : all)
    if (std::getenv(v)) GTEST_SKIP() << "started by a launcher (" << v << ")";
  EXPECT_EQ(launch_from_environment().size, 1);
  EXPECT_EQ(launch_from_environment().variable, "");
  {
    ScopedEnv env;
    env.set("PMI_SIZE", "4");
    env.set("PMI_RANK", "3");
    Launch l = launch_from_environment();
    EXPECT_EQ(l.size, 4);
    EXPECT_EQ(l.rank, 3);
    EXPECT_EQ(l.local_rank, -1);
    env.set("MPI_LOCALRANKID", "1");
    l = launch_from_environment();
    EXPECT_EQ(l.local_rank, 1);
    EXPECT_EQ(l.variable, "PMI_SIZE");
  }
  {
    ScopedEnv env;
    env.set("OMPI_COMM_WORLD_SIZE", "two");  // not a number: as if unset
    EXPECT_EQ(launch_from_environment().size, 1);
  }
}

TEST(Comm, TimeoutMustBePositive) {
  EXPECT_NE(test::error_of([] { set_timeout(0); }).find("collective time-out: expected seconds in (0, 1e7], got 0"),
            std::string::npos);
  EXPECT_NE(test::error_of([] { set_timeout(-3); }).find("got -3"), std::string::npos);
  EXPECT_EQ(timeout(), 300.0);  // unchanged by the refused values
}

// Restores the time-out and the handler.
struct WatchdogSetup {
  explicit WatchdogSetup(double seconds, TimeoutHandler h) : old_timeout(timeout()) {
    set_timeout(seconds);
    old_handler = set_timeout_handler(std::move(h));
  }
  ~WatchdogSetup() {
    set_timeout_handler(old_handler);
    set_timeout(old_timeout);
  }
  double old_timeout;
  TimeoutHandler old_handler;
};

void wait_until(const std::atomic<int>& flag, int value) {
  for (int i = 0; i < 20000 && flag.load() < value; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

TEST(CommWatchdog, AWaitThatOutlastsTheTimeoutIsReportedByName) {
  std::atomic<int> fired{0};
  std::string message;
  WatchdogSetup setup(0.05, [&](const std::string& m) {
    message = m;
    fired = 1;
  });
  {
    Watch w("all_reduce of 3 float64");
    wait_until(fired, 1);
  }
  ASSERT_EQ(fired.load(), 1);
  EXPECT_NE(message.find("all_reduce of 3 float64 has waited"), std::string::npos) << message;
  EXPECT_NE(message.find("a rank has died or hangs"), std::string::npos) << message;
}

TEST(CommWatchdog, FinishedWorkAndEndedWatchesAreNotReported) {
  std::atomic<int> fired{0}, polled{0};
  std::string message;
  WatchdogSetup setup(0.3, [&](const std::string& m) {
    message = m;
    fired = 1;
  });
  const uint64_t id = watch("NCCL all_reduce", [&] {
    ++polled;
    return true;
  });
  { Watch quick("barrier"); }
  const uint64_t never = watch("until unwatched");
  unwatch(never);
  wait_until(polled, 1);
  unwatch(id);
  // A watch that stays alive past the time-out does fire: the handler is still installed.
  const uint64_t late = watch("late");
  wait_until(fired, 1);
  unwatch(late);
  EXPECT_GE(polled.load(), 1);
  ASSERT_EQ(fired.load(), 1);
  EXPECT_EQ(message.find("late has waited"), 0u) << message;
}

}  // namespace
}  // namespace pmsdsen::comm
