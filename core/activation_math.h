#pragma once
// Activation formulas and their derivatives, shared by the CPU and CUDA kernels.
// Each matches PyTorch's kernel (same expression, same branch at 0). M supplies exp and
// erf: the C math functions by default (CUDA, and the CPU in double); the CPU kernels
// pass vectorisable float versions (core/cpu/vec_math.h).
#include "core/scalar_math.h"

namespace pmsdsen::hd {

struct LibMath {
  template <class T>
  static PMSDSEN_HD T exp(T x) {
    return exp_(x);
  }
  template <class T>
  static PMSDSEN_HD T erf(T x) {
    return erf_(x);
  }
};

// GELU, exact: 0.5 x (1 + erf(x / sqrt 2)).
template <class T, class M = LibMath>
PMSDSEN_HD T gelu(T x) {
  return x * T(0.5) * (T(1) + M::erf(x * T(0.70710678118654752440)));
}

// d/dx GELU = Phi(x) + x phi(x).
template <class T, class M = LibMath>
PMSDSEN_HD T gelu_grad(T x) {
  const T cdf = T(0.5) * (T(1) + M::erf(x * T(0.70710678118654752440)));
  const T pdf = M::exp(T(-0.5) * x * x) * T(0.39894228040143267794);  // 1 / sqrt(2 pi)
  return cdf + x * pdf;
}

// LeakyReLU and PReLU: the slope applies where x <= 0 (PyTorch: x > 0 ? x : a x).
template <class T>
PMSDSEN_HD T leaky(T x, T slope) {
  return x > T(0) ? x : x * slope;
}
template <class T>
PMSDSEN_HD T leaky_grad(T x, T slope) {
  return x > T(0) ? T(1) : slope;
}
// d/dslope of PReLU.
template <class T>
PMSDSEN_HD T prelu_slope_grad(T x) {
  return x > T(0) ? T(0) : x;
}

template <class T, class M = LibMath>
PMSDSEN_HD T sigmoid(T x) {
  return T(1) / (T(1) + M::exp(-x));
}
// In terms of the output y = sigmoid(x).
template <class T>
PMSDSEN_HD T sigmoid_grad_from_output(T y) {
  return (T(1) - y) * y;
}

}  // namespace pmsdsen::hd
