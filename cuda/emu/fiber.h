#pragma once
// A stack and a saved stack pointer: the execution context of one emulated GPU thread.
// Switching is a few instructions (callee-saved registers and the stack pointer), far
// cheaper than swapcontext, which also makes a system call and, under AddressSanitizer,
// clears the shadow of the whole target stack. Stacks come from one reserved range with
// an inaccessible guard page below each, so an overflow faults with a message.
#include <cstddef>

namespace pmsdsen::emu {

class Fiber {
 public:
  using Entry = void (*)(void* arg);

  Fiber();
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // The next switch into this fiber starts entry(arg) at the top of its stack (entry
  // must never return). Also used to recycle a fiber abandoned mid-kernel.
  void start(Entry entry, void* arg);

  void* saved_sp = nullptr;         // while not running
  void* asan_fake_stack = nullptr;  // AddressSanitizer's bookkeeping across switches
  void* tsan_fiber = nullptr;       // ThreadSanitizer's identity of this GPU thread
  char* stack_bottom = nullptr;
  size_t stack_bytes = 0;
};

// Saves the running context's stack pointer in *save and continues the context whose
// stack pointer is `load`.
extern "C" void pmsdsen_emu_switch(void** save, void* load);

// Creates the process-wide stack pool now. Called before worker threads start: its lazy
// initialisation is invisible to ThreadSanitizer (this library is uninstrumented), so a
// worker meeting it initialised would look like a race.
void prepare_fiber_stacks();

// Bytes of stack per emulated thread (PMSDSEN_EMU_STACK_KIB, default 64 KiB, 256 under
// a sanitizer).
size_t fiber_stack_bytes();

}  // namespace pmsdsen::emu
