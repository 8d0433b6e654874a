#include "core/allocator.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>

#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "core/error.h"

#ifdef PMSDSEN_WITH_CUDA
#include "core/cuda_env.h"
#endif
#ifdef PMSDSEN_CUDA_EMULATE
#include "emu/hooks.h"
#endif

namespace pmsdsen {
namespace {

constexpr size_t kCpuAlignment = 64;

size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

struct Accounting {
  std::mutex mutex;
  MemoryStats stats;
  void on_alloc(size_t bytes) {
    stats.current_bytes += bytes;
    stats.peak_bytes = std::max(stats.peak_bytes, stats.current_bytes);
  }
  void on_free(size_t bytes) { stats.current_bytes -= bytes; }
};

// Leaked on purpose: tensors in static storage may be freed after main returns.
Accounting& cpu_accounting() {
  static Accounting* a = new Accounting;
  return *a;
}

// glibc maps blocks of 32 MB and more (every activation of a large image) directly and
// unmaps them when freed, so each new activation page-faults its memory in again: on a
// 1024 x 2048 image that doubled the CPU time of a forward pass. Keep freed memory in the
// process for the next tensor instead. Done once, before the first tensor.
void keep_freed_memory_in_process() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

// Asks for transparent huge pages over the 2 MiB-aligned part of a large block, where the
// system leaves them to madvise (the Debian default): the first training step touches
// 9 GiB of fresh activations, and with 4 KiB pages it took 2.2x a later step (29.8 s vs
// 13.7 s with huge pages at 12x3x256x512 on 2 cores). Advice only: failure changes nothing.
void advise_huge_pages(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t(2) << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) / kHuge * kHuge;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) / kHuge * kHuge;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

void* cpu_allocate(size_t bytes) {
  static const bool tuned = (keep_freed_memory_in_process(), true);
  (void)tuned;
  const size_t rounded = round_up(bytes, kCpuAlignment);
  void* p = std::aligned_alloc(kCpuAlignment, rounded);
  PMSDSEN_CHECK(p != nullptr, "out of host memory allocating ", bytes, " bytes");
  if (rounded >= (size_t(4) << 20)) advise_huge_pages(p, rounded);
  Accounting& a = cpu_accounting();
  std::lock_guard<std::mutex> lock(a.mutex);
  a.on_alloc(rounded);
  a.stats.reserved_bytes += rounded;
  a.stats.system_allocs++;
  return p;
}

void cpu_deallocate(void* p, size_t bytes) {
  std::free(p);
  const size_t rounded = round_up(bytes, kCpuAlignment);
  Accounting& a = cpu_accounting();
  std::lock_guard<std::mutex> lock(a.mutex);
  a.on_free(rounded);
  a.stats.reserved_bytes -= rounded;
  a.stats.system_frees++;
}

#ifdef PMSDSEN_WITH_CUDA
// Block sizes are rounded so that the same tensor shapes map to the same blocks:
// small requests to 512 B, large ones to 1 MiB. A cached block is reused for a
// request at most 1/8 smaller than itself, which bounds the waste.
size_t cuda_round(size_t bytes) {
  constexpr size_t kSmall = 512, kLarge = size_t(1) << 20;
  return bytes <= kLarge ? round_up(bytes, kSmall) : round_up(bytes, kLarge);
}

// The emulated GPU fills what a tensor gets with NaN and, under AddressSanitizer, makes
// the rest of its block unaddressable, so that reads of unwritten memory and overruns
// into the rounding slack show.
void on_handed_out(void* p, size_t requested, size_t size) {
#ifdef PMSDSEN_CUDA_EMULATE
  emu::block_handed_out(p, requested, size);
#else
  (void)p, (void)requested, (void)size;
#endif
}

void on_cached(void* p, size_t size) {
#ifdef PMSDSEN_CUDA_EMULATE
  emu::block_cached(p, size);
#else
  (void)p, (void)size;
#endif
}

}  // namespace

struct CudaMemoryPool::Blocks {
  std::multimap<size_t, void*> free_blocks;  // size -> block
  size_t reserved = 0;                       // owned by the pool, in use or free
};

namespace {

struct CudaCache {
  Accounting acc;
  std::multimap<size_t, void*> free_blocks;  // size -> block
  // Block -> its real size, which can exceed the size its tensor asked for (a reused
  // block up to 1/8 larger): frees are filed and accounted at the real size.
  std::unordered_map<void*, size_t> live;
  CudaMemoryPool::Blocks* active_pool = nullptr;                     // serving allocations now
  std::unordered_map<void*, CudaMemoryPool::Blocks*> pool_of;        // a pool's blocks

  void release_all_locked() {
    for (auto& [size, ptr] : free_blocks) {
      cudaFree(ptr);
      acc.stats.reserved_bytes -= size;
      acc.stats.system_frees++;
    }
    free_blocks.clear();
  }
};

CudaCache& cuda_cache() {
  static CudaCache* c = new CudaCache;
  return *c;
}

void* cuda_allocate(size_t bytes) {
  require_device(Device::cuda(), "allocate");
  const size_t size = cuda_round(bytes);
  CudaCache& c = cuda_cache();
  std::lock_guard<std::mutex> lock(c.acc.mutex);
  CudaMemoryPool::Blocks* pool = c.active_pool;
  std::multimap<size_t, void*>& cached = pool ? pool->free_blocks : c.free_blocks;
  auto it = cached.lower_bound(size);
  if (it != cached.end() && it->first <= size + size / 8) {
    void* p = it->second;
    c.acc.on_alloc(it->first);
    c.live.emplace(p, it->first);
    // A graph replays into a pool's blocks whatever the allocator thinks of them: the
    // emulated GPU must not poison them, nor the slack of one that served a smaller tensor.
    on_handed_out(p, pool ? it->first : bytes, it->first);
    cached.erase(it);
    return p;
  }
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, size);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    c.release_all_locked();
    e = cudaMalloc(&p, size);
  }
  if (e != cudaSuccess) {
    cudaGetLastError();
    constexpr double MiB = 1024.0 * 1024.0;
    PMSDSEN_CHECK(e == cudaErrorMemoryAllocation, "CUDA allocation of ", size / MiB, " MiB failed",
                  pool ? " in a private pool (warm it up before capturing)" : "", ": ", cudaGetErrorString(e));
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    PMSDSEN_FAIL("CUDA out of memory allocating ", size / MiB, " MiB (in use by tensors ",
                 c.acc.stats.current_bytes / MiB, " MiB, peak ", c.acc.stats.peak_bytes / MiB,
                 " MiB; device free ", free_b / MiB, " of ", total_b / MiB, " MiB)");
  }
  c.acc.stats.system_allocs++;
  c.acc.stats.reserved_bytes += size;
  c.acc.on_alloc(size);
  c.live.emplace(p, size);
  if (pool) {
    c.pool_of.emplace(p, pool);
    pool->reserved += size;
  }
  on_handed_out(p, pool ? size : bytes, size);
  return p;
}

void cuda_deallocate(void* p, size_t /*bytes*/) {
  CudaCache& c = cuda_cache();
  std::lock_guard<std::mutex> lock(c.acc.mutex);
  const auto it = c.live.find(p);
  PMSDSEN_CHECK(it != c.live.end(), "CUDA free of a block this allocator did not hand out");
  const size_t size = it->second;
  c.live.erase(it);
  c.acc.on_free(size);
  const auto owner = c.pool_of.find(p);
  if (owner != c.pool_of.end()) {
    owner->second->free_blocks.emplace(size, p);  // not poisoned: a graph may still use it
    return;
  }
  on_cached(p, size);
  c.free_blocks.emplace(size, p);
}
#endif

}  // namespace

void* allocate(size_t bytes, Device device) {
  if (bytes == 0) return nullptr;
#ifdef PMSDSEN_WITH_CUDA
  if (device.is_cuda()) return cuda_allocate(bytes);
#else
  require_device(device, "allocate");
#endif
  return cpu_allocate(bytes);
}

void deallocate(void* ptr, size_t bytes, Device device) {
  if (ptr == nullptr) return;
#ifdef PMSDSEN_WITH_CUDA
  if (device.is_cuda()) return cuda_deallocate(ptr, bytes);
#else
  (void)device;  // allocate() refused CUDA already
#endif
  cpu_deallocate(ptr, bytes);
}

MemoryStats memory_stats(Device device) {
#ifdef PMSDSEN_WITH_CUDA
  if (device.is_cuda()) {
    std::lock_guard<std::mutex> lock(cuda_cache().acc.mutex);
    return cuda_cache().acc.stats;
  }
#endif
  if (device.is_cuda()) return {};
  std::lock_guard<std::mutex> lock(cpu_accounting().mutex);
  return cpu_accounting().stats;
}

void reset_peak_memory(Device device) {
#ifdef PMSDSEN_WITH_CUDA
  if (device.is_cuda()) {
    std::lock_guard<std::mutex> lock(cuda_cache().acc.mutex);
    cuda_cache().acc.stats.peak_bytes = cuda_cache().acc.stats.current_bytes;
    return;
  }
#endif
  if (device.is_cuda()) return;
  std::lock_guard<std::mutex> lock(cpu_accounting().mutex);
  cpu_accounting().stats.peak_bytes = cpu_accounting().stats.current_bytes;
}

void empty_cache(Device device) {
#ifdef PMSDSEN_WITH_CUDA
  if (device.is_cuda()) {
    PMSDSEN_CUDA_CHECK(cudaStreamSynchronize(cuda_env::stream()));
    std::lock_guard<std::mutex> lock(cuda_cache().acc.mutex);
    cuda_cache().release_all_locked();
  }
#else
  (void)device;
#endif
}

#ifdef PMSDSEN_WITH_CUDA
CudaMemoryPool::CudaMemoryPool() : blocks_(new Blocks) {}

CudaMemoryPool::~CudaMemoryPool() {
  cudaStreamSynchronize(cuda_env::stream());  // no error thrown from here
  CudaCache& c = cuda_cache();
  std::lock_guard<std::mutex> lock(c.acc.mutex);
  if (c.active_pool == blocks_) c.active_pool = nullptr;
  for (auto& [size, ptr] : blocks_->free_blocks) {
    c.pool_of.erase(ptr);
    cudaFree(ptr);
    c.acc.stats.reserved_bytes -= size;
    c.acc.stats.system_frees++;
  }
  // Blocks still held by tensors return to the shared cache when freed.
  for (auto it = c.pool_of.begin(); it != c.pool_of.end();) it = it->second == blocks_ ? c.pool_of.erase(it) : ++it;
  delete blocks_;
}

size_t CudaMemoryPool::reserved_bytes() const {
  std::lock_guard<std::mutex> lock(cuda_cache().acc.mutex);
  return blocks_->reserved;
}

CudaMemoryPool::Use::Use(CudaMemoryPool& pool) {
  CudaCache& c = cuda_cache();
  std::lock_guard<std::mutex> lock(c.acc.mutex);
  PMSDSEN_CHECK(c.active_pool == nullptr, "CudaMemoryPool: another pool is in use");
  c.active_pool = pool.blocks_;
}

CudaMemoryPool::Use::~Use() {
  CudaCache& c = cuda_cache();
  std::lock_guard<std::mutex> lock(c.acc.mutex);
  c.active_pool = nullptr;
}
#else
CudaMemoryPool::CudaMemoryPool() : blocks_(nullptr) {}
CudaMemoryPool::~CudaMemoryPool() = default;
size_t CudaMemoryPool::reserved_bytes() const { return 0; }
CudaMemoryPool::Use::Use(CudaMemoryPool&) {}
CudaMemoryPool::Use::~Use() = default;
#endif

}  // namespace pmsdsen
