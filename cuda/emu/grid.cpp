// Kernel launches: the configuration checked as a GPU checks it, pointer arguments
// checked against device memory, then the blocks run on a pool of worker threads (one
// per core; PMSDSEN_EMU_THREADS overrides), each worker a whole block at a time.
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cuda/emu/block_runner.h"
#include "cuda/emu/device_memory.h"
#include "cuda/emu/errors.h"
#include "cuda/emu/fiber.h"
#include "cuda/emu/h100.h"
#include "cuda/emu/queue.h"
#include "emu/launch.h"

namespace pmsdsen::emu {
namespace {

std::string dims(dim3 d) {
  return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

// Dynamic shared memory limits raised by cudaFuncSetAttribute, by kernel.
std::mutex g_attributes_mutex;
std::map<const void*, size_t> g_shared_limits;

size_t shared_limit(const void* kernel) {
  std::lock_guard<std::mutex> lock(g_attributes_mutex);
  const auto it = g_shared_limits.find(kernel);
  return it == g_shared_limits.end() ? h100::kSharedPerBlock : it->second;
}

cudaError_t check_configuration(const KernelLaunch& k) {
  const std::string who = "kernel '" + std::string(k.name) + "'";
  const unsigned b[3] = {k.block.x, k.block.y, k.block.z}, g[3] = {k.grid.x, k.grid.y, k.grid.z};
  for (int i = 0; i < 3; ++i) {
    if (b[i] == 0 || b[i] > h100::kMaxBlockDim[i])
      return fail(cudaErrorInvalidConfiguration, who + ": block " + dims(k.block) +
                                                     " (an H100 allows 1..1024 threads in x and y, 1..64 in z)");
    if (g[i] == 0 || g[i] > h100::kMaxGridDim[i])
      return fail(cudaErrorInvalidConfiguration,
                  who + ": grid " + dims(k.grid) + " (an H100 allows 1..2^31-1 blocks in x, 1..65535 in y and z)");
  }
  const uint64_t threads = uint64_t(b[0]) * b[1] * b[2];
  if (threads > h100::kMaxThreadsPerBlock)
    return fail(cudaErrorInvalidConfiguration,
                who + ": block " + dims(k.block) + " has " + std::to_string(threads) + " threads, above 1024");
  const size_t limit = shared_limit(k.kernel);
  if (k.shared_bytes > limit)
    return fail(cudaErrorInvalidValue, who + ": " + std::to_string(k.shared_bytes) +
                                           " bytes of dynamic shared memory, above the kernel's limit of " +
                                           std::to_string(limit) +
                                           (limit == h100::kSharedPerBlock ? " (raise it with cudaFuncSetAttribute)" : ""));
  return cudaSuccess;
}

struct Job {
  const Grid* grid = nullptr;
  uint64_t blocks = 0;
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  uint64_t fault_block = ~uint64_t(0);
  std::string fault;  // of the lowest-numbered faulting block
};

void work_on(Job& job) {
  while (!job.failed.load(std::memory_order_relaxed)) {
    const uint64_t b = job.next.fetch_add(1, std::memory_order_relaxed);
    if (b >= job.blocks) break;
    std::string fault = run_block(*job.grid, b);
    if (fault.empty()) continue;
    std::lock_guard<std::mutex> lock(job.mutex);
    if (b < job.fault_block) {
      job.fault_block = b;
      job.fault = std::move(fault);
    }
    job.failed = true;
  }
}

class Pool {
 public:
  Pool() {
    prepare_fiber_stacks();
    unsigned n = std::thread::hardware_concurrency();
    if (const char* env = std::getenv("PMSDSEN_EMU_THREADS")) n = static_cast<unsigned>(std::atoi(env));
    n = std::max(1u, std::min(n, 64u));
    for (unsigned i = 1; i < n; ++i) helpers_.emplace_back([this] { serve(); });
  }

  // Never destroyed (leaked at exit): helper threads wait on it until the process ends.
  std::string run(const Grid& g, uint64_t blocks) {
    Job job;
    job.grid = &g;
    job.blocks = blocks;
    if (helpers_.empty() || blocks == 1) {
      work_on(job);
      return job.fault;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &job;
      ++generation_;
      busy_ = static_cast<int>(helpers_.size());
    }
    wake_.notify_all();
    work_on(job);
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [this] { return busy_ == 0; });
    job_ = nullptr;
    return job.fault;
  }

 private:
  void serve() {
    uint64_t seen = 0;
    for (;;) {
      Job* job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        job = job_;
      }
      work_on(*job);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--busy_ == 0) idle_.notify_all();
    }
  }

  std::vector<std::thread> helpers_;
  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  Job* job_ = nullptr;
  uint64_t generation_ = 0;
  int busy_ = 0;
};

Pool& pool() {
  static Pool* p = new Pool;
  return *p;
}

cudaError_t run_grid(const KernelLaunch& k, ThreadBody body, const void* pack,
                     const std::vector<PointerArgument>& pointers) {
  for (const PointerArgument& p : pointers) {
    const std::string why = check_device_range(p.pointer, 0);
    if (!why.empty())
      return fail(cudaErrorIllegalAddress,
                  "kernel '" + std::string(k.name) + "' argument " + std::to_string(p.index + 1) + ": " + why);
  }
  const Grid g{k.name, k.grid, k.block, k.shared_bytes, shared_limit(k.kernel), body, pack};
  const uint64_t blocks = uint64_t(k.grid.x) * k.grid.y * k.grid.z;
  std::string fault;
  {
    DeviceAccess access;
    set_kernel_running(k.name);
    fault = pool().run(g, blocks);
    set_kernel_running(nullptr);
  }
  if (!fault.empty()) return fail(cudaErrorLaunchFailure, fault);
  return cudaSuccess;
}

}  // namespace

namespace {
std::mutex g_counts_mutex;
std::map<std::string, int64_t> g_counts;
}  // namespace

std::map<std::string, int64_t> launch_counts() {
  std::lock_guard<std::mutex> lock(g_counts_mutex);
  return g_counts;
}

void reset_launch_counts() {
  std::lock_guard<std::mutex> lock(g_counts_mutex);
  g_counts.clear();
}

void count_launch(const std::string& name) {
  std::lock_guard<std::mutex> lock(g_counts_mutex);
  ++g_counts[name];
}

cudaError_t launch(const KernelLaunch& k, ThreadBody body, std::shared_ptr<const void> pack,
                   std::vector<PointerArgument> pointers) {
  if (const cudaError_t e = check_configuration(k); e != cudaSuccess) return e;
  count_launch(k.name);
  return submit(k.stream, "a kernel launch", [k, body, pack, pointers] { return run_grid(k, body, pack.get(), pointers); });
}

}  // namespace pmsdsen::emu

cudaError_t cudaFuncSetAttribute(const void* kernel, cudaFuncAttribute attr, int value) {
  using namespace pmsdsen::emu;
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize)
    return fail(cudaErrorNotSupported, "cudaFuncSetAttribute: only cudaFuncAttributeMaxDynamicSharedMemorySize is emulated");
  if (value < 0 || static_cast<size_t>(value) > h100::kSharedPerBlockOptin)
    return fail(cudaErrorInvalidValue, "cudaFuncSetAttribute: " + std::to_string(value) +
                                           " bytes of dynamic shared memory, above an H100's 232448");
  std::lock_guard<std::mutex> lock(g_attributes_mutex);
  g_shared_limits[kernel] = std::max(h100::kSharedPerBlock, static_cast<size_t>(value));
  return cudaSuccess;
}
