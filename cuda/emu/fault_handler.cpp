#include "cuda/emu/fault_handler.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>

#include "cuda/emu/device_memory.h"

namespace pmsdsen::emu {
namespace {

struct Range {
  std::atomic<uintptr_t> begin{0}, end{0};
};
Range g_ranges[2];
struct sigaction g_previous;
std::atomic<const char*> g_kernel{nullptr};

void write_text(const char* s) {
  ssize_t r = write(STDERR_FILENO, s, strlen(s));
  (void)r;
}

void write_hex(uintptr_t v) {
  char buf[19] = "0x";
  for (int i = 0; i < 16; ++i) buf[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
  buf[18] = 0;
  write_text(buf);
}

bool inside(FaultRange r, uintptr_t a) {
  const Range& g = g_ranges[static_cast<int>(r)];
  return a >= g.begin.load() && a < g.end.load();
}

void on_segv(int sig, siginfo_t* info, void* context) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(info->si_addr);
  if (inside(FaultRange::DeviceMemory, a)) {
    const char* kernel = g_kernel.load();
    if (kernel) {
      write_text("emulated CUDA: kernel '");
      write_text(kernel);
      write_text("' accessed device memory outside every allocation at ");
    } else {
      write_text("emulated CUDA: host code dereferenced the device pointer ");
    }
    write_hex(a);
    write_text(kernel ? " (an illegal address on a GPU)\n"
                      : ": device memory is only accessible to kernels and the CUDA runtime's copies\n");
  } else if (inside(FaultRange::FiberStacks, a)) {
    const char* kernel = g_kernel.load();
    write_text("emulated CUDA: a GPU thread of kernel '");
    write_text(kernel ? kernel : "?");
    write_text("' overflowed its fiber stack (PMSDSEN_EMU_STACK_KIB sets the size)\n");
  } else if (g_previous.sa_flags & SA_SIGINFO) {
    g_previous.sa_sigaction(sig, info, context);
    return;
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(sig);
    return;
  }
  // Die of the fault: with the default action restored, the access faults again.
  signal(SIGSEGV, SIG_DFL);
}

void install() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &g_previous);
}

}  // namespace

void register_fault_range(FaultRange kind, const void* begin, size_t bytes) {
  static std::once_flag once;
  std::call_once(once, install);
  Range& r = g_ranges[static_cast<int>(kind)];
  r.begin = reinterpret_cast<uintptr_t>(begin);
  r.end = reinterpret_cast<uintptr_t>(begin) + bytes;
  ensure_signal_stack();
}

// Owns the calling thread's alternate signal stack and removes it when the thread ends.
struct AltStack {
  std::unique_ptr<char[]> memory;
  ~AltStack() {
    if (!memory) return;
    stack_t off;
    std::memset(&off, 0, sizeof off);
    off.ss_flags = SS_DISABLE;
    sigaltstack(&off, nullptr);
  }
};

void ensure_signal_stack() {
  thread_local AltStack alt;
  thread_local bool checked = false;
  if (checked) return;
  checked = true;
  stack_t current;
  if (sigaltstack(nullptr, &current) == 0 && !(current.ss_flags & SS_DISABLE)) return;  // has one
  constexpr size_t kBytes = 64 * 1024;
  alt.memory.reset(new char[kBytes]);
  stack_t s;
  s.ss_sp = alt.memory.get();
  s.ss_size = kBytes;
  s.ss_flags = 0;
  if (sigaltstack(&s, nullptr) != 0) alt.memory.reset();
}

void set_kernel_running(const char* kernel_name) { g_kernel = kernel_name; }

}  // namespace pmsdsen::emu
