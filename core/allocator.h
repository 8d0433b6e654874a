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

}  // namespace pmsdsen
