#pragma once
// CPU kernels of PyTorch's bilinear interpolation (upsample_bilinear2d) over `planes`
// planes, H x W -> OH x OW. ratio_h/ratio_w come from hd::bilinear_ratio
// (core/resize_math.h). Float and double.
#include <cstdint>

namespace pmsdsen::cpu {

// One output row of a bilinear resize: source rows s0, s1 weighted a0, a1; output column
// ow reads source columns c0[ow], c1[ow] weighted b0[ow], b1[ow]. The inner loop of
// bilinear_forward and of the inference plan's upsampling (core/cpu/nhwc.h).
template <class T>
inline void bilinear_row(const T* s0, const T* s1, T a0, T a1, const int* c0, const int* c1, const T* b0,
                         const T* b1, int OW, T* out) {
  for (int ow = 0; ow < OW; ++ow)
    out[ow] = a0 * (b0[ow] * s0[c0[ow]] + b1[ow] * s0[c1[ow]]) + a1 * (b0[ow] * s1[c0[ow]] + b1[ow] * s1[c1[ow]]);
}

template <class T>
void bilinear_forward(const T* x, T* y, int64_t planes, int H, int W, int OH, int OW, T ratio_h,
                      T ratio_w, bool align_corners);

// Gather form, separable: first along W into a per-plane buffer of OH x W, then along H.
template <class T>
void bilinear_backward(const T* gy, T* gx, int64_t planes, int H, int W, int OH, int OW,
                       T ratio_h, T ratio_w, bool align_corners);

}  // namespace pmsdsen::cpu
