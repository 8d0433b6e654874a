#pragma once
// CPU kernels of PyTorch's bilinear interpolation (upsample_bilinear2d) over `planes`
// planes, H x W -> OH x OW. ratio_h/ratio_w come from hd::bilinear_ratio
// (core/resize_math.h). Float and double.
#include <cstdint>

namespace pmsdsen::cpu {

template <class T>
void bilinear_forward(const T* x, T* y, int64_t planes, int H, int W, int OH, int OW, T ratio_h,
                      T ratio_w, bool align_corners);

// Gather form, separable: first along W into a per-plane buffer of OH x W, then along H.
template <class T>
void bilinear_backward(const T* gy, T* gx, int64_t planes, int H, int W, int OH, int OW,
                       T ratio_h, T ratio_w, bool align_corners);

}  // namespace pmsdsen::cpu
