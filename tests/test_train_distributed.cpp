// `mpirun -np 2 pmsdsen train`: two ranks with --sync-bn step as one process with the
// same --batch (augmentation on); a run resumes from 2 ranks into 1 and back; a rank
// that dies, hangs or fails ends the others with a message, the last checkpoint whole.
// Skipped when the build found no MPI (tools/setup.sh installs Open MPI).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "examples/train_checkpoint.h"
#include "tests/test_model_cmd_util.h"

namespace pmsdsen {
namespace {

namespace fs = std::filesystem;

#ifdef PMSDSEN_MPIRUN
constexpr const char* kMpirun = PMSDSEN_MPIRUN;
#else
constexpr const char* kMpirun = "";
#endif

// `pmsdsen <args>` on `ranks` processes under mpirun (1: the plain binary).
test::CommandResult run_ranks(int ranks, const std::string& args, const std::string& env = "") {
  if (ranks == 1) return test::run_tool(args, env);
  std::string forward = " -x OMP_NUM_THREADS=1 -x OMP_WAIT_POLICY=passive";
  if (!env.empty()) forward += " -x " + env.substr(0, env.find('='));
  return test::run_command(env + " " + kMpirun + " -np " + std::to_string(ranks) + forward + " '" +
                           PMSDSEN_TOOL_PATH + "' " + args);
}

#define SKIP_WITHOUT_MPI() \
  if (std::string(kMpirun).empty()) GTEST_SKIP() << "skipped: no MPI (tools/setup.sh installs Open MPI), or a sanitizer build"

std::string run_dir(const std::string& name) {
  const std::string dir = test::temp_file("dist_" + name);
  fs::remove_all(dir);
  return dir;
}

// Synthetic scenes, augmentation on (scale, crop, flip, colour jitter), batch 4.
std::string train_args(const std::string& out, int64_t iters, int64_t stop_after) {
  return "train --dataset synthetic --synthetic-size 64x32 --synthetic-train 8 --synthetic-val 2 --crop 48x32 "
         "--batch 4 --workers 1 --device cpu --lr 0.01 --val-every -1 --log-every 1 --sync-bn --iters " +
         std::to_string(iters) + " --stop-after " + std::to_string(stop_after) + " --out " + out;
}

std::string resume_args(const std::string& out, int64_t stop_after) {
  return "train --resume " + out + " --workers 1 --stop-after " + std::to_string(stop_after);
}

// Every tensor of b within 1e-4 of a's largest magnitude (relative, per tensor; 1e-3 at
// least: the biases of convolutions followed by batch norm get no gradient and stay near
// zero, at rounding noise).
void expect_same_weights(const std::string& a_path, const std::string& b_path) {
  const train::Checkpoint a = train::load_checkpoint(a_path), b = train::load_checkpoint(b_path);
  EXPECT_EQ(a.state.iteration, b.state.iteration);
  ASSERT_EQ(a.model.size(), b.model.size());
  int compared = 0;
  for (const auto& [name, ta] : a.model) {
    const Tensor& tb = b.model.at(name);
    if (!is_floating(ta.dtype())) {
      EXPECT_EQ(ta.to(DType::I64).to_vector<int64_t>(), tb.to(DType::I64).to_vector<int64_t>()) << name;
      continue;
    }
    const auto va = ta.to(DType::F64).to_vector<double>(), vb = tb.to(DType::F64).to_vector<double>();
    double scale = 1e-3, diff = 0;
    for (size_t i = 0; i < va.size(); ++i) {
      scale = std::max(scale, std::abs(va[i]));
      diff = std::max(diff, std::abs(va[i] - vb[i]));
    }
    EXPECT_LE(diff, 1e-4 * scale) << name;
    ++compared;
  }
  EXPECT_GT(compared, 100);
}

// One test: the runs build on each other (2 ranks x 3 steps vs 1 process x 3 steps, then
// both resumed to 6, the 2-rank run through a 1-rank stretch).
TEST(TrainDistributed, TwoRanksWithSyncBnStepAsOneProcessAndResumeAcrossRankCounts) {
  SKIP_WITHOUT_MPI();
  const std::string one = run_dir("one"), two = run_dir("two");
  test::CommandResult r = run_ranks(1, train_args(one, 6, 3));
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_ranks(2, train_args(two, 6, 3));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_OUTPUT_HAS(r, "data parallel: 2 ranks");
  EXPECT_OUTPUT_HAS(r, "batch norm synchronised (--sync-bn)");
  expect_same_weights(one + "/last.safetensors", two + "/last.safetensors");
  // Rank 0 alone wrote the log: one record an iteration.
  std::ifstream log(two + "/log.jsonl");
  int lines = 0;
  for (std::string line; std::getline(log, line);) lines += line.find("\"kind\":\"train\"") != std::string::npos;
  EXPECT_EQ(lines, 3);

  r = run_ranks(1, resume_args(one, 6));
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_ranks(1, resume_args(two, 5));  // 2 ranks -> 1
  ASSERT_EQ(r.status, 0) << r.output;
  r = run_ranks(2, resume_args(two, 6));  // and back
  ASSERT_EQ(r.status, 0) << r.output;
  expect_same_weights(one + "/last.safetensors", two + "/last.safetensors");
  fs::remove_all(one);
  fs::remove_all(two);
}

// A rank killed after iteration 2: mpirun ends the other and exits non-zero; the last
// checkpoint (written every iteration) is whole.
TEST(TrainDistributed, AKilledRankEndsTheOthersAndLeavesTheLastCheckpointWhole) {
  SKIP_WITHOUT_MPI();
  const std::string out = run_dir("kill");
  const test::CommandResult r =
      run_ranks(2, train_args(out, 40, 0) + " --save-every 1", "PMSDSEN_TEST_FAULT=1:2:kill");
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_OUTPUT_HAS(r, "signal 9");
  const train::Checkpoint c = train::load_checkpoint(out + "/last.safetensors");
  EXPECT_GE(c.state.iteration, 1);
  EXPECT_LT(c.state.iteration, 40);
  fs::remove_all(out);
}

// A rank that stops answering (SIGSTOP: the launcher sees nothing wrong): the other's
// collective times out after --comm-timeout and every rank is stopped, with a message.
TEST(TrainDistributed, AHungRankIsNamedByTheCollectiveTimeout) {
  SKIP_WITHOUT_MPI();
  const std::string out = run_dir("hang");
  const test::CommandResult r =
      run_ranks(2, train_args(out, 40, 0) + " --comm-timeout 3", "PMSDSEN_TEST_FAULT=1:2:hang");
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_OUTPUT_HAS(r, "rank 0 of 2: ");
  EXPECT_OUTPUT_HAS(r, "s for the other ranks (the collective time-out, train --comm-timeout)");
  fs::remove_all(out);
}

// An error on one rank: its message, naming the rank, and every rank stopped.
TEST(TrainDistributed, AnErrorOnOneRankStopsEveryRankWithItsMessage) {
  SKIP_WITHOUT_MPI();
  const std::string out = run_dir("error");
  const test::CommandResult r = run_ranks(2, train_args(out, 40, 0), "PMSDSEN_TEST_FAULT=1:2:error");
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_OUTPUT_HAS(r, "pmsdsen train: rank 1 of 2: error: ");
  EXPECT_OUTPUT_HAS(r, "PMSDSEN_TEST_FAULT: an error on rank 1 after iteration 2");
  EXPECT_OUTPUT_HAS(r, "; stopping every rank");
  fs::remove_all(out);
}

// Ctrl-C reaches one rank only (here rank 1, after iteration 2): the ranks agree and all
// stop after that iteration, rank 0 saving it.
TEST(TrainDistributed, CtrlCOnOneRankStopsEveryRankAfterTheSameIterationWithACheckpoint) {
  SKIP_WITHOUT_MPI();
  const std::string out = run_dir("interrupt");
  const test::CommandResult r = run_ranks(2, train_args(out, 40, 0), "PMSDSEN_TEST_FAULT=1:2:interrupt");
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_OUTPUT_HAS(r, "interrupted at iteration 2 of 40; saved " + out + "/last.safetensors");
  EXPECT_EQ(train::load_checkpoint(out + "/last.safetensors").state.iteration, 2);
  fs::remove_all(out);
}

TEST(TrainDistributed, ABatchTooSmallForTheRanksIsRefused) {
  SKIP_WITHOUT_MPI();
  const std::string out = run_dir("small");
  const test::CommandResult r =
      run_ranks(2, "train --dataset synthetic --synthetic-size 64x32 --synthetic-train 8 --synthetic-val 2 "
                   "--crop 48x32 --batch 3 --iters 2 --workers 1 --device cpu --out " + out);
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_OUTPUT_HAS(r, "train: --batch 3 (the whole batch, split over the 2 ranks) must be at least 4: two images "
                       "a rank for batch norm (or --sync-bn)");
  fs::remove_all(out);
}

}  // namespace
}  // namespace pmsdsen
