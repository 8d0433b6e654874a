#include "cuda/emu/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#include "cuda/emu/fault_handler.h"
#include "cuda/emu/sanitizers.h"

#if !defined(__x86_64__)
#error "the emulated CUDA device switches fibers with x86-64 assembly; port fiber.cpp to this architecture"
#endif

// System V x86-64: rbx, rbp and r12-r15 are preserved across calls; everything else the
// caller of pmsdsen_emu_switch has already saved. (The MXCSR and the x87 control word are
// callee-saved too, but no kernel changes rounding modes, so they are left alone: ldmxcsr
// and fldcw would double the cost of a switch.)
asm(R"(
  .text
  .globl pmsdsen_emu_switch
  .type pmsdsen_emu_switch, @function
pmsdsen_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size pmsdsen_emu_switch, .-pmsdsen_emu_switch

  .globl pmsdsen_emu_fiber_start
  .type pmsdsen_emu_fiber_start, @function
pmsdsen_emu_fiber_start:
  movq %r12, %rdi
  callq *%r13
  ud2
  .size pmsdsen_emu_fiber_start, .-pmsdsen_emu_fiber_start
  .section .note.GNU-stack,"",@progbits
  .text
)");

extern "C" void pmsdsen_emu_fiber_start();

namespace pmsdsen::emu {
namespace {

size_t page_size() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

// Stacks for every fiber of every worker, each above a guard page, recycled when a
// worker thread ends.
class StackPool {
 public:
  StackPool() {
    void* p = mmap(nullptr, kReserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    base_ = static_cast<char*>(p);
    slot_ = fiber_stack_bytes() + page_size();
    register_fault_range(FaultRange::FiberStacks, base_, kReserve);
  }

  char* take() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!free_.empty()) {
      char* s = free_.back();
      free_.pop_back();
      return s;
    }
    if ((next_ + 1) * slot_ > kReserve) throw std::bad_alloc();
    char* stack = base_ + next_++ * slot_ + page_size();  // the page below stays a guard
    if (mprotect(stack, fiber_stack_bytes(), PROT_READ | PROT_WRITE) != 0) throw std::bad_alloc();
    return stack;
  }

  void give_back(char* stack) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(stack);
  }

 private:
  static constexpr size_t kReserve = size_t(16) << 30;
  std::mutex mutex_;
  char* base_;
  size_t slot_;
  size_t next_ = 0;
  std::vector<char*> free_;
};

StackPool& stacks() {
  static StackPool* pool = new StackPool;  // leaked: fibers of exiting threads return here late
  return *pool;
}

}  // namespace

void prepare_fiber_stacks() { (void)stacks(); }

size_t fiber_stack_bytes() {
  static const size_t bytes = [] {
    size_t kib = PMSDSEN_EMU_ASAN || PMSDSEN_EMU_TSAN ? 256 : 64;
    if (const char* env = std::getenv("PMSDSEN_EMU_STACK_KIB")) {
      const long v = std::strtol(env, nullptr, 10);
      if (v >= 16 && v <= 65536) kib = static_cast<size_t>(v);
    }
    const size_t page = page_size();
    return (kib * 1024 + page - 1) / page * page;
  }();
  return bytes;
}

Fiber::Fiber() : stack_bottom(stacks().take()), stack_bytes(fiber_stack_bytes()) {
#if PMSDSEN_EMU_TSAN
  tsan_fiber = __tsan_create_fiber(0);
#endif
}

Fiber::~Fiber() {
#if PMSDSEN_EMU_TSAN
  __tsan_destroy_fiber(tsan_fiber);
#endif
  asan_unpoison(stack_bottom, stack_bytes);
  stacks().give_back(stack_bottom);
}

void Fiber::start(Entry entry, void* arg) {
  // A fiber abandoned mid-kernel may leave poisoned frames behind.
  asan_unpoison(stack_bottom, stack_bytes);
  asan_fake_stack = nullptr;
  // The frame pmsdsen_emu_switch pops: r15, r14, r13 (entry), r12 (arg), rbx, rbp, then
  // the return address, pmsdsen_emu_fiber_start, which calls entry(arg) with the 16-byte
  // stack alignment of a call.
  uintptr_t top = reinterpret_cast<uintptr_t>(stack_bottom + stack_bytes) & ~uintptr_t(15);
  uint64_t* frame = reinterpret_cast<uint64_t*>(top) - 7;
  frame[0] = 0;                                          // r15
  frame[1] = 0;                                          // r14
  frame[2] = reinterpret_cast<uintptr_t>(entry);         // r13
  frame[3] = reinterpret_cast<uintptr_t>(arg);           // r12
  frame[4] = 0;                                          // rbx
  frame[5] = 0;                                          // rbp: the end of frame-pointer chains
  frame[6] = reinterpret_cast<uintptr_t>(&pmsdsen_emu_fiber_start);
  saved_sp = frame;
}

}  // namespace pmsdsen::emu
