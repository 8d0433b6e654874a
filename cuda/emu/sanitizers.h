#pragma once
// The sanitizer interfaces the emulator uses, as no-ops where a sanitizer is absent.
#include <cstddef>

// The build says which sanitizer the program runs under (cuda/emu/CMakeLists.txt): this
// library itself is compiled without instrumentation, so the compiler's own
// __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__ would not tell.
#ifndef PMSDSEN_EMU_ASAN
#define PMSDSEN_EMU_ASAN 0
#endif
#ifndef PMSDSEN_EMU_TSAN
#define PMSDSEN_EMU_TSAN 0
#endif

#if PMSDSEN_EMU_ASAN
#include <sanitizer/asan_interface.h>
#endif

#if PMSDSEN_EMU_TSAN
extern "C" {
void* __tsan_get_current_fiber(void);
void* __tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void* fiber);
void __tsan_switch_to_fiber(void* fiber, unsigned flags);
void __tsan_acquire(void* addr);
void __tsan_release(void* addr);
}
#endif

namespace pmsdsen::emu {

inline void asan_poison(const void* p, size_t n) {
#if PMSDSEN_EMU_ASAN
  if (n) __asan_poison_memory_region(p, n);
#else
  (void)p, (void)n;
#endif
}
inline void asan_unpoison(const void* p, size_t n) {
#if PMSDSEN_EMU_ASAN
  if (n) __asan_unpoison_memory_region(p, n);
#else
  (void)p, (void)n;
#endif
}
// Happens-before edges for ThreadSanitizer between the emulated GPU threads (fibers).
inline void tsan_release(void* sync) {
#if PMSDSEN_EMU_TSAN
  __tsan_release(sync);
#else
  (void)sync;
#endif
}
inline void tsan_acquire(void* sync) {
#if PMSDSEN_EMU_TSAN
  __tsan_acquire(sync);
#else
  (void)sync;
#endif
}

}  // namespace pmsdsen::emu
