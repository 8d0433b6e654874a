#pragma once
// CPU kernels of the activations (formulas in core/activation_math.h) and of the
// softmax across channel groups. Float and double; contiguous memory.
#include <cstdint>

#include "core/epilogue_math.h"

namespace pmsdsen::cpu {

template <class T>
void gelu_forward(const T* x, T* y, int64_t n);
template <class T>
void gelu_backward(const T* gy, const T* x, T* gx, int64_t n);

template <class T>
void leaky_relu_forward(const T* x, T slope, T* y, int64_t n);
template <class T>
void leaky_relu_backward(const T* gy, const T* x, T slope, T* gx, int64_t n);

template <class T>
void sigmoid_forward(const T* x, T* y, int64_t n);
template <class T>
void sigmoid_backward(const T* gy, const T* y, T* gx, int64_t n);

// x [N, C, S]; slope has C entries, or 1 shared by all channels (slope_count 1).
template <class T>
void prelu_forward(const T* x, const T* slope, int64_t slope_count, T* y, int64_t N, int64_t C,
                   int64_t S);
// gx and gslope may each be null. gslope[c] (or gslope[0]) summed deterministically.
template <class T>
void prelu_backward(const T* gy, const T* x, const T* slope, int64_t slope_count, T* gx,
                    T* gslope, int64_t N, int64_t C, int64_t S);

// x [N, G*C, S]: softmax across the G groups at every (n, c, s).
template <class T>
void softmax_groups_forward(const T* x, T* y, int64_t N, int64_t G, int64_t C, int64_t S);
// gx = y * (gy - sum_g y gy)
template <class T>
void softmax_groups_backward(const T* gy, const T* y, T* gx, int64_t N, int64_t G, int64_t C,
                             int64_t S);

// y = the epilogue of x (core/epilogue_math.h) over [N, C, S]; y may be x.
template <class T>
void epilogue(const T* x, T* y, int64_t N, int64_t C, int64_t S, const Epilogue<T>& e);

}  // namespace pmsdsen::cpu
