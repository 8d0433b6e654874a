#pragma once
#include <cstddef>
#include <cstdint>

#include "core/device.h"

namespace pmsdsen {

struct MemoryStats {
  size_t current_bytes = 0;   // bytes held by live tensors
  size_t peak_bytes = 0;      // high-water mark of current_bytes since the last reset
  size_t reserved_bytes = 0;  // bytes obtained from the system (CUDA: in use + cached)
  uint64_t system_allocs = 0; // cudaMalloc / aligned_alloc calls so far
  uint64_t system_frees = 0;  // cudaFree / free calls so far
};

// Raw memory for tensors. The CUDA side is a caching allocator: freed blocks are kept
// and handed out again, so a warmed-up training loop makes no cudaMalloc/cudaFree calls.
void* allocate(size_t bytes, Device device);
void deallocate(void* ptr, size_t bytes, Device device);

MemoryStats memory_stats(Device device);
void reset_peak_memory(Device device);
// Returns cached, unused CUDA blocks to the driver (no-op on the CPU).
void empty_cache(Device device);

// A private pool of CUDA blocks, for work captured into a CUDA graph: while a Use of it is
// alive, every CUDA allocation comes from the pool (from its free blocks, else a new
// cudaMalloc, which fails while a stream captures: warm the pool up with one uncaptured
// run first), and a pool block freed at any time goes back to the pool, never to the
// shared cache. So a graph replaying into the pool's addresses never meets another
// tensor. Blocks still held by tensors when the pool goes pass to the shared cache.
class CudaMemoryPool {
 public:
  CudaMemoryPool();
  ~CudaMemoryPool();  // waits for the stream, then frees the pool's free blocks
  CudaMemoryPool(const CudaMemoryPool&) = delete;
  CudaMemoryPool& operator=(const CudaMemoryPool&) = delete;

  size_t reserved_bytes() const;  // blocks owned by the pool, in use or free

  // Makes the pool serve this process's CUDA allocations for the scope (one pool at a time).
  class Use {
   public:
    explicit Use(CudaMemoryPool& pool);
    ~Use();
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;
  };

  struct Blocks;  // allocator.cpp

 private:
  Blocks* blocks_;
};

}  // namespace pmsdsen
