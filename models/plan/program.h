#pragma once
// An inference program: a fixed list of steps over buffers that live in one arena.
//
// Buffers are planned from their lifetimes (first step that writes one to the last step
// that reads it): offsets are assigned greedily, largest first, at the lowest address
// not used by any buffer alive at the same time, so the arena holds the peak of live
// activations rather than their sum. The program is built in two passes by the same
// code (see ProgramBuilder): a dry pass that only records sizes and lifetimes, then the
// real pass with every pointer in the allocated arena. Nothing is allocated per run.
//
// Execution: one OpenMP parallel region per run; each step is either a list of tiles
// shared dynamically among the threads (a barrier after it) or a small serial job run
// by one thread. A tile writes only its own outputs and per-tile partial sums, so results
// do not depend on the thread count or on which thread ran which tile.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace pmsdsen::plan {

struct StepProfile {
  std::string name, kind;
  double seconds = 0;  // wall time, summed over the profiled runs
  double cpu_seconds = 0;  // CPU time of all threads (robust when other work shares the cores)
  double macs = 0;     // multiply-accumulates per run (0 for non-convolutions)
  int64_t tiles = 0;
};

class Program {
 public:
  struct Step {
    std::string name;  // "layer1.0.LDI.conv.0.compress"
    std::string kind;  // "conv1x1", "depthwise", "eca", ...
    int64_t tiles = 0;  // 0: a serial job
    double macs = 0;
    std::function<void(int64_t tile, float* scratch)> body;
    // Small serial jobs run right after the last tile, in order, by the thread that
    // finished it (host computations on this step's results: no barrier of their own).
    std::vector<std::function<void()>> finish;
    std::vector<std::string> finish_names;
  };
  struct Buffer {
    std::string name;
    size_t bytes = 0;
    int first = -1, last = -1;  // steps
    size_t offset = 0;
  };

  const std::vector<Step>& steps() const { return steps_; }
  const std::vector<Buffer>& buffers() const { return buffers_; }
  size_t arena_bytes() const { return arena_bytes_; }
  size_t scratch_floats() const { return scratch_floats_; }
  // The per-thread scratch allocated so far (after a run).
  size_t scratch_bytes() const { return scratch_stride_ * sizeof(float) * static_cast<size_t>(scratch_threads_); }

  // Runs every step. With profile, adds each step's wall time (measured by one thread
  // after the barrier that ends it) to profile (resized to the steps).
  void run(std::vector<StepProfile>* profile = nullptr);

 private:
  friend class ProgramBuilder;
  std::vector<Step> steps_;
  std::vector<Buffer> buffers_;
  size_t arena_bytes_ = 0, scratch_floats_ = 0;
  std::shared_ptr<void> arena_;        // 64-byte aligned
  std::shared_ptr<void> scratch_;      // per thread
  size_t scratch_stride_ = 0;          // floats per thread
  int scratch_threads_ = 0;
  std::unique_ptr<std::atomic<int64_t>[]> done_;  // tiles finished per step (steps with a finish)
};

// Offsets for buffers with lifetimes [first, last] (steps): returns the arena size.
size_t plan_arena(std::vector<Program::Buffer>& buffers, size_t alignment = 64);

// What the model-specific code emits a program with. `build` is called twice with a
// fresh builder: dry (pointers are placeholders, never dereferenced) and real.
class ProgramBuilder {
 public:
  // A buffer of `floats` floats; its pointer is valid in the real pass.
  int buffer(const std::string& name, int64_t floats);
  float* ptr(int id) const;
  // Appends a step that reads and writes the given buffers (for their lifetimes).
  void step(Program::Step s, const std::vector<int>& uses);
  // A small serial job: run by the thread that finishes the previous step's last tile
  // when that step is tiled, else as a step of its own.
  void serial(const std::string& name, const std::vector<int>& uses, std::function<void()> f);
  // The tile scratch every thread needs (floats), at least.
  void need_scratch(int64_t floats);
  bool dry() const { return dry_; }

  // Runs `build` dry, plans the arena, runs it again for real into `out`.
  static void compile(const std::function<void(ProgramBuilder&)>& build, Program& out);

 private:
  explicit ProgramBuilder(bool dry) : dry_(dry) {}
  bool dry_;
  int next_buffer_ = 0;
  char* base_ = nullptr;
  std::vector<Program::Buffer> buffers_;
  std::vector<Program::Step> steps_;
  size_t scratch_floats_ = 0;
};

}  // namespace pmsdsen::plan
