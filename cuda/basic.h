#pragma once
// CUDA kernels of the basic ops (float32, device pointers, queued on the library stream).
// Mirrors core/cpu/basic.h.
#include <cstdint>

namespace pmsdsen::cuda {

void axpby(float alpha, const float* a, float beta, const float* b, float* y, int64_t n);
void mul(const float* a, const float* b, float* y, int64_t n);
void mul_channel(const float* x, const float* s, float* y, int64_t planes, int64_t plane_size);
void dot_planes(const float* g, const float* x, float* gs, int64_t planes, int64_t plane_size);
// Deterministic two-pass sum into out[0] (a device pointer).
void sum(const float* x, float* out, int64_t n);
void fill(float* y, float value, int64_t n);
// y[i] = factor * value[0], value a device pointer (no host round trip).
void broadcast_scalar(const float* value, float factor, float* y, int64_t n);
void copy_channels(const void* src, int64_t src_channels, int64_t src_first, void* dst,
                   int64_t dst_channels, int64_t dst_first, int64_t channels, int64_t batch,
                   int64_t plane_bytes);

}  // namespace pmsdsen::cuda
