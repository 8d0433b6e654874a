#pragma once
// Runs one thread block of an emulated launch: every GPU thread a fiber on the calling OS
// thread, switched at barriers and warp collectives, with the block's own shared memory.
#include <cstddef>
#include <cstdint>
#include <string>

#include "emu/launch.h"

namespace pmsdsen::emu {

// One launch as the workers that run its blocks see it.
struct Grid {
  const char* name;
  dim3 grid, block;
  size_t dynamic_shared;  // bytes given at launch
  size_t shared_limit;    // static + dynamic bytes a block may use
  ThreadBody body;
  const void* pack;
};

// Runs block `linear` (x fastest, then y, then z) of `grid`. Returns "" or what went
// wrong, naming the kernel, the block and the threads: a barrier or warp collective that
// not every required thread reached, lanes meeting at different collectives, a mask
// that leaves out the caller, too much shared memory, a write past a shared array.
std::string run_block(const Grid& grid, uint64_t linear);

}  // namespace pmsdsen::emu
