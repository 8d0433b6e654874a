// The real binary under signals: Ctrl-C saves and exits 130; a second Ctrl-C exits at
// once; SIGKILL at any moment leaves a loadable checkpoint (atomic writes).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "examples/train_checkpoint.h"
#include "tests/test_util.h"

namespace pmsdsen::train {
namespace {

namespace fs = std::filesystem;

// Starts `pmsdsen train` on tiny synthetic crops, checkpointing every iteration.
// With resume, continues the run in `out` instead.
pid_t start_training(const std::string& out, bool resume = false) {
  std::vector<std::string> args = {PMSDSEN_TOOL_PATH, "train", "--dataset", "synthetic", "--synthetic-size", "64x32",
                                   "--synthetic-train", "8", "--synthetic-val", "2", "--crop", "32x32", "--batch", "2",
                                   "--iters", "100000", "--val-every", "-1", "--save-every", "1", "--device", "cpu",
                                   "--workers", "1", "--out", out};
  if (resume) args = {PMSDSEN_TOOL_PATH, "train", "--resume", out};
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string log = out + "/console.txt";
    FILE* f = std::freopen(log.c_str(), "a", stdout);
    (void)f;
    ::dup2(STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// Waits until last.safetensors exists (the run is past its first iteration).
bool wait_for_checkpoint(const std::string& out, int seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (fs::exists(out + "/last.safetensors")) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// How often `text` occurs in the runs' console output so far.
int console_count(const std::string& out, const std::string& text) {
  std::ifstream in(out + "/console.txt");
  const std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  int n = 0;
  for (size_t at = s.find(text); at != std::string::npos; at = s.find(text, at + 1)) ++n;
  return n;
}

// Waits until `text` occurs `count` times in the console output.
bool wait_for_console(const std::string& out, const std::string& text, int count, int seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (console_count(out, text) >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 1000 + WTERMSIG(status);
}

TEST(TrainSignals, CtrlCSavesAndExits130) {
  const std::string out = test::temp_dir("sig_int");
  const pid_t pid = start_training(out);
  ASSERT_TRUE(wait_for_checkpoint(out, 120));
  ::kill(pid, SIGINT);
  EXPECT_EQ(wait_exit(pid), 130);
  const Checkpoint c = load_checkpoint(out + "/last.safetensors");
  EXPECT_GE(c.state.iteration, 1);
  std::ifstream console(out + "/console.txt");
  const std::string text((std::istreambuf_iterator<char>(console)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("interrupted at iteration " + std::to_string(c.state.iteration)), std::string::npos) << text;
  EXPECT_NE(text.find("pmsdsen train --resume " + out), std::string::npos) << text;
  fs::remove_all(out);
}

TEST(TrainSignals, SecondCtrlCExitsAtOnce) {
  const std::string out = test::temp_dir("sig_int2");
  const pid_t pid = start_training(out);
  ASSERT_TRUE(wait_for_checkpoint(out, 120));
  ::kill(pid, SIGINT);
  ::kill(pid, SIGINT);
  EXPECT_EQ(wait_exit(pid), 130);
  EXPECT_NO_THROW(load_checkpoint(out + "/last.safetensors"));
  fs::remove_all(out);
}

TEST(TrainSignals, KillAtAnyMomentLeavesALoadableCheckpoint) {
  // A checkpoint is written after every iteration; SIGKILL lands at staggered moments,
  // often in the middle of a write. The file on disk always loads.
  const std::string out = test::temp_dir("sig_kill");
  const pid_t pid = start_training(out);
  ASSERT_TRUE(wait_for_checkpoint(out, 120));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  ::kill(pid, SIGKILL);
  EXPECT_EQ(wait_exit(pid), 1000 + SIGKILL);
  const Checkpoint c = load_checkpoint(out + "/last.safetensors");
  EXPECT_GE(c.state.iteration, 1);
  // Resume, kill again: the checkpoint only moves forward and always loads.
  int64_t iteration = c.state.iteration;
  for (int round = 0; round < 3; ++round) {
    const pid_t again = start_training(out, true);
    std::this_thread::sleep_for(std::chrono::milliseconds(400 + 137 * round));
    ::kill(again, SIGKILL);
    wait_exit(again);
    const Checkpoint now = load_checkpoint(out + "/last.safetensors");
    EXPECT_GE(now.state.iteration, iteration) << "round " << round;
    iteration = now.state.iteration;
  }
  // A resumed run removes the temporary files that kills left behind.
  const int resumed_before = console_count(out, "resuming");
  const pid_t last = start_training(out, true);
  ASSERT_TRUE(wait_for_console(out, "resuming", resumed_before + 1, 120));  // its handler is installed
  ::kill(last, SIGINT);
  EXPECT_EQ(wait_exit(last), 130);
  for (const auto& e : fs::directory_iterator(out))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
  fs::remove_all(out);
}

}  // namespace
}  // namespace pmsdsen::train
