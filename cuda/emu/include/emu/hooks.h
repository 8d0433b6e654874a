#pragma once
// Calls into the emulated device that have no CUDA counterpart: what the caching
// allocator (core/allocator.cpp) and the tests use to make the emulation stricter.
#include <cstddef>

namespace pmsdsen::emu {

// The caching allocator hands `requested` bytes of a `size`-byte block to a tensor. The
// bytes are filled with 0xFF (NaN as float) so that a kernel reading what nothing wrote
// shows in its results; under AddressSanitizer the rest of the block is unaddressable.
void block_handed_out(void* block, size_t requested, size_t size);
// The block went back to the cache: under AddressSanitizer none of it is addressable.
void block_cached(void* block, size_t size);

// Lowers the pitch limit of 2D copies (cudaDevAttrMaxPitch; 2^31 - 1 bytes on an H100)
// so that tests of the paths beyond it fit in host memory; 0 restores the H100's.
void set_max_pitch(size_t bytes);

}  // namespace pmsdsen::emu
