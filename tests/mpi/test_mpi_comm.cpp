// core/comm.h over MPI: the collectives give every rank what the definition says,
// computed here from the rank numbers alone.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "core/comm.h"
#include "core/comm_watchdog.h"

namespace pmsdsen::comm {
namespace {

TEST(MpiComm, WorldMatchesTheLauncher) {
  Communicator& w = world();
  const Launch l = launch_from_environment();
  EXPECT_EQ(w.size(), l.size);
  EXPECT_EQ(w.rank(), l.rank);
  EXPECT_EQ(world_is_distributed(), l.size > 1);
  if (w.size() > 1) {
    EXPECT_EQ(w.describe().rfind("MPI rank " + std::to_string(w.rank()) + " of " + std::to_string(w.size()), 0), 0u)
        << w.describe();
    EXPECT_EQ(rank_prefix(), "rank " + std::to_string(w.rank()) + " of " + std::to_string(w.size()) + ": ");
  } else {
    EXPECT_EQ(rank_prefix(), "");
  }
}

TEST(MpiComm, AllReduceSumsMaxesAndMinsEveryDtype) {
  Communicator& w = world();
  const int r = w.rank(), n = w.size();
  std::vector<float> f{1.f + r, -0.5f * r, 3.f};
  all_reduce(w, f.data(), 3);
  const float rank_sum = n * (n - 1) / 2.f;
  EXPECT_EQ(f, (std::vector<float>{n + rank_sum, -0.5f * rank_sum, 3.f * n}));
  std::vector<double> d{1e-300 * (r + 1), 2.0};
  all_reduce(w, d.data(), 2, ReduceOp::Max);
  EXPECT_EQ(d[0], 1e-300 * n);
  EXPECT_EQ(d[1], 2.0);
  EXPECT_EQ(all_reduce_value<int64_t>(w, int64_t{1} << 40 | r, ReduceOp::Min), int64_t{1} << 40);
  EXPECT_EQ(all_reduce_value<int32_t>(w, r + 1), n * (n + 1) / 2);
  EXPECT_EQ(all_reduce_value<uint8_t>(w, static_cast<uint8_t>(r == 0 ? 1 : 0), ReduceOp::Max), 1);
}

TEST(MpiComm, NonBlockingAllReduceCompletesWithTheSameResult) {
  Communicator& w = world();
  std::vector<double> a(1000), b(1000);
  for (int i = 0; i < 1000; ++i) a[i] = b[i] = i * (w.rank() + 1);
  auto ra = w.all_reduce_start(a.data(), 1000, DType::F64);
  auto rb = w.all_reduce_start(b.data(), 1000, DType::F64, ReduceOp::Max);
  while (!ra->test()) {
  }
  rb->wait();
  const double factor = w.size() * (w.size() + 1) / 2.0;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(a[i], i * factor) << i;
    ASSERT_EQ(b[i], i * w.size()) << i;
  }
}

TEST(MpiComm, BroadcastAndAllGather) {
  Communicator& w = world();
  const int root = w.size() - 1;
  std::vector<int64_t> v(5, w.rank());
  if (w.rank() == root) std::iota(v.begin(), v.end(), 100);
  w.broadcast(v.data(), 5 * sizeof(int64_t), root);
  EXPECT_EQ(v, (std::vector<int64_t>{100, 101, 102, 103, 104}));
  const double mine[2] = {double(w.rank()), -double(w.rank())};
  std::vector<double> all(2 * w.size());
  w.all_gather(mine, all.data(), sizeof mine);
  for (int r = 0; r < w.size(); ++r) {
    EXPECT_EQ(all[2 * r], r);
    EXPECT_EQ(all[2 * r + 1], -r);
  }
  w.barrier();
}

// Rank 0 reaches the barrier while the others are still busy past the time-out: the
// watchdog reports the barrier on rank 0 (here to a test handler, which lets it go on).
TEST(MpiComm, AWaitForALateRankIsReportedByTheWatchdog) {
  Communicator& w = world();
  if (w.size() < 2) GTEST_SKIP() << "needs two ranks";
  std::string message;
  std::atomic<int> fired{0};
  const double old = timeout();
  set_timeout(0.2);
  TimeoutHandler previous = set_timeout_handler([&](const std::string& m) {
    message = m;
    fired = 1;
  });
  if (w.rank() != 0) std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // far past the time-out
  w.barrier();
  set_timeout_handler(previous);
  set_timeout(old);
  if (w.rank() == 0) {
    ASSERT_EQ(fired.load(), 1);
    EXPECT_EQ(message.rfind("rank 0 of " + std::to_string(w.size()) + ": barrier has waited", 0), 0u) << message;
  } else {
    EXPECT_EQ(fired.load(), 0) << message;
  }
}

}  // namespace
}  // namespace pmsdsen::comm
