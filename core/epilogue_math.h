#pragma once
// The pointwise tail fused into the op that produces a tensor (inference only):
//
//   y = act((v * scale[n, c] + residual * residual_scale[n, c]) * mul[c] + add[c])
//
// where v is the producer's value (a convolution's output, or a tensor read again),
// every term optional. It covers what PMSDSEN runs after its products: a folded batch
// norm's bias and activation, a standalone BN + activation (mul, add), ECA's channel
// scale, residual additions before an activation, and DWFF's weighted sum
// a * w0 + b * w1. One definition for both backends (the CPU tests cover the GPU math).
#include <cstdint>

#include "core/activation_math.h"

namespace pmsdsen {

enum class EpiAct : int { None, Gelu, Prelu, Leaky };

template <class T>
struct Epilogue {
  const T* scale = nullptr;           // [N * C]
  const T* residual = nullptr;        // the output's shape
  const T* residual_scale = nullptr;  // [N * C]
  const T* mul = nullptr;             // [C]
  const T* add = nullptr;             // [C]
  EpiAct act = EpiAct::None;
  const T* slope = nullptr;           // PReLU: [C], or [1] shared (slope_count 1)
  int64_t slope_count = 0;
  T leaky_slope = T(0);               // LeakyReLU
};

namespace hd {

// The constants of one (sample, channel) plane; absent terms are exact identities.
template <class T>
struct EpiPlane {
  T scale, residual_scale, mul, add, slope;
  EpiAct act;
};

template <class T>
PMSDSEN_HD EpiPlane<T> epilogue_plane(const Epilogue<T>& e, int64_t plane, int64_t channels) {
  const int64_t c = plane % channels;
  EpiPlane<T> p;
  p.scale = e.scale ? e.scale[plane] : T(1);
  p.residual_scale = e.residual_scale ? e.residual_scale[plane] : T(1);
  p.mul = e.mul ? e.mul[c] : T(1);
  p.add = e.add ? e.add[c] : T(0);
  p.slope = e.act == EpiAct::Prelu ? e.slope[e.slope_count == 1 ? 0 : c] : e.leaky_slope;
  p.act = e.act;
  return p;
}

// r: the residual at this element (ignored without one).
template <class T, class M = LibMath>
PMSDSEN_HD T epilogue_value(const EpiPlane<T>& p, bool has_residual, T v, T r) {
  v = v * p.scale;
  if (has_residual) v = v + r * p.residual_scale;
  v = v * p.mul + p.add;
  switch (p.act) {
    case EpiAct::Gelu: return gelu<T, M>(v);
    case EpiAct::Prelu:
    case EpiAct::Leaky: return leaky(v, p.slope);
    default: return v;
  }
}

}  // namespace hd
}  // namespace pmsdsen
