#pragma once
// The vector type of the NHWC kernels (GCC vector extensions: full-width registers and
// fused multiply-adds on whatever -march allows, no intrinsics), and the register
// blocking of their micro-kernels for that width.
#include <cstring>

namespace pmsdsen::cpu::nhwc {

#if defined(__AVX512F__)
constexpr int kLanes = 16;
constexpr int kRegisters = 32;
#elif defined(__AVX__)
constexpr int kLanes = 8;
constexpr int kRegisters = 16;
#else
constexpr int kLanes = 4;
constexpr int kRegisters = 16;
#endif

typedef float vf __attribute__((vector_size(kLanes * sizeof(float))));

inline vf load(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
inline vf splat(float x) { return x - vf{}; }

// Vectors per column block: up to 4 (the blocks of one product are equal).
constexpr int kMaxNV = 4;
// Output rows of a micro-tile with NV vectors: most accumulators that leave room for the
// weights and a broadcast.
constexpr int micro_rows(int nv) {
  return kRegisters == 32 ? (nv == 1 ? 12 : nv == 2 ? 12 : nv == 3 ? 8 : 6)
                          : (nv == 1 ? 8 : nv == 2 ? 6 : nv == 3 ? 4 : 3);
}

}  // namespace pmsdsen::cpu::nhwc
