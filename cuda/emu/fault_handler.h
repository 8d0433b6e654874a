#pragma once
// SIGSEGV inside the emulator's own reserved ranges (device memory, fiber stacks) gets a
// message saying what happened before the process dies; other faults go to the handler
// that was installed before (AddressSanitizer's, or the default).
#include <cstddef>

namespace pmsdsen::emu {

enum class FaultRange { DeviceMemory, FiberStacks };

// Registers [begin, begin + bytes) and installs the handler (once).
void register_fault_range(FaultRange kind, const void* begin, size_t bytes);

// Gives the calling thread an alternate signal stack, so that the message can be written
// after a fiber overflowed its stack.
void ensure_signal_stack();

}  // namespace pmsdsen::emu
