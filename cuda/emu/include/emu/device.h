#pragma once
// The device side of CUDA C++ for the emulated build: qualifiers, the built-in index
// variables, barriers, warp collectives, shared memory, atomics and the intrinsics the
// kernels use. Each GPU thread runs as a fiber (cuda/emu/block_runner.cpp); the index
// variables below are set by the scheduler before it switches to a thread.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "vector_types.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
// Static and dynamic shared memory are declared with PMSDSEN_SHARED and
// PMSDSEN_DYNAMIC_SHARED (cuda/launch.cuh), which give each block its own exactly sized,
// poisoned copy here. A bare __shared__ would be one variable for every block.
#define __shared__ static_assert(false, "emulated CUDA: declare shared memory with PMSDSEN_SHARED / PMSDSEN_DYNAMIC_SHARED");
#define __constant__ static_assert(false, "emulated CUDA: __constant__ is not emulated");

namespace pmsdsen::emu {

// Written only by the scheduler (uninstrumented under ThreadSanitizer), read by kernels.
inline thread_local uint3 tls_thread_idx{};
inline thread_local uint3 tls_block_idx{};
inline thread_local dim3 tls_block_dim{};
inline thread_local dim3 tls_grid_dim{};

// Barrier and collectives of the running thread's block; file and line name the call site
// in error reports. Each may switch to other threads of the block before it returns.
void sync_block(const char* file, int line);
void sync_warp(unsigned mask, const char* file, int line);
enum class Shuffle { Index, Up, Down, Xor };
uint64_t shuffle(Shuffle kind, unsigned mask, uint64_t bits, int arg, int width, const char* file, int line);
unsigned ballot(unsigned mask, bool predicate, const char* file, int line);

// This block's copy of a static shared variable (keyed by declaration site and type) and
// of the dynamic shared memory given at launch.
void* shared_variable(const void* key, size_t bytes, size_t align, const char* name);
void* dynamic_shared_memory();

template <class T, class Site>
T& block_shared(Site, const char* name) {
  static const char key = 0;  // one per declaration site (a lambda type) and instantiation
  return *static_cast<T*>(shared_variable(&key, sizeof(T), alignof(T), name));
}

template <class T>
T* dynamic_shared() {
  return static_cast<T*>(dynamic_shared_memory());
}

// Nanoseconds of the emulated %globaltimer (the host's steady clock).
uint64_t globaltimer_ns();

template <class T>
uint64_t to_bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "warp shuffles move at most 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  return bits;
}

template <class T>
T from_bits(uint64_t bits) {
  T v;
  std::memcpy(&v, &bits, sizeof(T));
  return v;
}

}  // namespace pmsdsen::emu

#define threadIdx (static_cast<const uint3&>(::pmsdsen::emu::tls_thread_idx))
#define blockIdx (static_cast<const uint3&>(::pmsdsen::emu::tls_block_idx))
#define blockDim (static_cast<const dim3&>(::pmsdsen::emu::tls_block_dim))
#define gridDim (static_cast<const dim3&>(::pmsdsen::emu::tls_grid_dim))
inline constexpr int warpSize = 32;

inline void __syncthreads(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  ::pmsdsen::emu::sync_block(file, line);
}
inline void __syncwarp(unsigned mask = 0xffffffffu, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  ::pmsdsen::emu::sync_warp(mask, file, line);
}

template <class T>
T __shfl_sync(unsigned mask, T v, int lane, int width = 32, const char* file = __builtin_FILE(),
              int line = __builtin_LINE()) {
  using namespace ::pmsdsen::emu;
  return from_bits<T>(shuffle(Shuffle::Index, mask, to_bits(v), lane, width, file, line));
}
template <class T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32, const char* file = __builtin_FILE(),
                 int line = __builtin_LINE()) {
  using namespace ::pmsdsen::emu;
  return from_bits<T>(shuffle(Shuffle::Up, mask, to_bits(v), static_cast<int>(delta), width, file, line));
}
template <class T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32, const char* file = __builtin_FILE(),
                   int line = __builtin_LINE()) {
  using namespace ::pmsdsen::emu;
  return from_bits<T>(shuffle(Shuffle::Down, mask, to_bits(v), static_cast<int>(delta), width, file, line));
}
template <class T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32, const char* file = __builtin_FILE(),
                  int line = __builtin_LINE()) {
  using namespace ::pmsdsen::emu;
  return from_bits<T>(shuffle(Shuffle::Xor, mask, to_bits(v), lane_mask, width, file, line));
}
inline unsigned __ballot_sync(unsigned mask, int predicate, const char* file = __builtin_FILE(),
                              int line = __builtin_LINE()) {
  return ::pmsdsen::emu::ballot(mask, predicate != 0, file, line);
}

// Atomics: real host atomics, since blocks run on several cores at once.
template <class T>
T emu_atomic_add_integer(T* p, T v) {
  return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}
template <class T>
T emu_atomic_add_floating(T* p, T v) {
  T old;
  __atomic_load(p, &old, __ATOMIC_RELAXED);
  T desired;
  do {
    desired = old + v;
  } while (!__atomic_compare_exchange(p, &old, &desired, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
  return old;
}
inline int atomicAdd(int* p, int v) { return emu_atomic_add_integer(p, v); }
inline unsigned atomicAdd(unsigned* p, unsigned v) { return emu_atomic_add_integer(p, v); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) { return emu_atomic_add_integer(p, v); }
inline float atomicAdd(float* p, float v) { return emu_atomic_add_floating(p, v); }
inline double atomicAdd(double* p, double v) { return emu_atomic_add_floating(p, v); }
template <class T, class Pick>
T emu_atomic_pick(T* p, T v, Pick pick) {
  T old;
  __atomic_load(p, &old, __ATOMIC_RELAXED);
  T desired;
  do {
    desired = pick(old, v);
  } while (!__atomic_compare_exchange(p, &old, &desired, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
  return old;
}
inline int atomicMax(int* p, int v) { return emu_atomic_pick(p, v, [](int a, int b) { return a < b ? b : a; }); }
inline int atomicMin(int* p, int v) { return emu_atomic_pick(p, v, [](int a, int b) { return b < a ? b : a; }); }
template <class T>
T atomicExch(T* p, T v) {
  T old;
  __atomic_exchange(p, &v, &old, __ATOMIC_RELAXED);
  return old;
}
template <class T>
T atomicCAS(T* p, T compare, T v) {
  __atomic_compare_exchange(p, &compare, &v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return compare;  // the old value whether or not it was swapped
}
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

// Loads, conversions and math.
template <class T>
T __ldg(const T* p) {
  return *p;
}
inline void __nanosleep(unsigned) {}
inline float __int_as_float(int v) { return ::pmsdsen::emu::from_bits<float>(static_cast<uint32_t>(v)); }
inline int __float_as_int(float v) { return static_cast<int>(static_cast<uint32_t>(::pmsdsen::emu::to_bits(v))); }
inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }
