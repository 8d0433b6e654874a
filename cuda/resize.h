#pragma once
// CUDA kernels of bilinear interpolation (float32, device pointers). Mirrors
// core/cpu/resize.h; the backward is a gather over the outputs reading each input.
#include <cstdint>

namespace pmsdsen::cuda {

void bilinear_forward(const float* x, float* y, int64_t planes, int H, int W, int OH, int OW,
                      float ratio_h, float ratio_w, bool align_corners);
void bilinear_backward(const float* gy, float* gx, int64_t planes, int H, int W, int OH, int OW,
                       float ratio_h, float ratio_w, bool align_corners);

}  // namespace pmsdsen::cuda
