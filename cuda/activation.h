#pragma once
// CUDA kernels of the activations and of the softmax across channel groups (float32,
// device pointers). Mirrors core/cpu/activation.h; the formulas are shared
// (core/activation_math.h).
#include <cstdint>

#include "core/epilogue_math.h"

namespace pmsdsen::cuda {

void gelu_forward(const float* x, float* y, int64_t n);
void gelu_backward(const float* gy, const float* x, float* gx, int64_t n);
void leaky_relu_forward(const float* x, float slope, float* y, int64_t n);
void leaky_relu_backward(const float* gy, const float* x, float slope, float* gx, int64_t n);
void sigmoid_forward(const float* x, float* y, int64_t n);
void sigmoid_backward(const float* gy, const float* y, float* gx, int64_t n);
void prelu_forward(const float* x, const float* slope, int64_t slope_count, float* y, int64_t N,
                   int64_t C, int64_t S);
void prelu_backward(const float* gy, const float* x, const float* slope, int64_t slope_count,
                    float* gx, float* gslope, int64_t N, int64_t C, int64_t S);
void softmax_groups_forward(const float* x, float* y, int64_t N, int64_t G, int64_t C, int64_t S);
void softmax_groups_backward(const float* gy, const float* y, float* gx, int64_t N, int64_t G,
                             int64_t C, int64_t S);

// y = the epilogue of x (core/epilogue_math.h) over [N, C, S]; y may be x.
void epilogue(const float* x, float* y, int64_t N, int64_t C, int64_t S, const Epilogue<float>& e);
// In place over channels [first, first + C) of y [N, total, S]; e's terms per channel only.
void epilogue_window(float* y, int64_t N, int64_t C, int64_t S, int64_t total, int64_t first,
                     const Epilogue<float>& e);

}  // namespace pmsdsen::cuda
