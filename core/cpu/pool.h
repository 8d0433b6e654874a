#pragma once
// CPU kernels of floor-mode 2-D pooling over `planes` planes of H x W (window geometry
// in core/pool_math.h). Float and double.
#include <cstdint>

namespace pmsdsen::cpu {

// Average pooling with count_include_pad=True.
template <class T>
void avg_pool2d_forward(const T* x, T* y, int64_t planes, int H, int W, int OH, int OW, int k,
                        int s, int p);
// Gather form: every input pixel sums over the windows that contain it.
template <class T>
void avg_pool2d_backward(const T* gy, T* gx, int64_t planes, int H, int W, int OH, int OW, int k,
                         int s, int p);

// Max pooling; index[o] is the plane-local position h*W + w of the window's maximum
// (the first in scan order; a NaN wins, as in PyTorch).
template <class T>
void max_pool2d_forward(const T* x, T* y, int32_t* index, int64_t planes, int H, int W, int OH,
                        int OW, int k, int s, int p);
template <class T>
void max_pool2d_backward(const T* gy, const int32_t* index, T* gx, int64_t planes, int H, int W,
                         int OH, int OW, int k, int s, int p);

// y[plane] = mean of the plane's S elements (double accumulation).
template <class T>
void global_avg_pool_forward(const T* x, T* y, int64_t planes, int64_t S);
template <class T>
void global_avg_pool_backward(const T* gy, T* gx, int64_t planes, int64_t S);

}  // namespace pmsdsen::cpu
