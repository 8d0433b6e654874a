#pragma once
// Branch-free float exp and erf for the CPU kernels, written so that GCC vectorises the
// loops calling them (libm's expf/erff are scalar calls). exp: Cephes' expf polynomial
// after range reduction by ln 2, within 2 ulp of the true value, NaN to NaN; 0 below
// -87.33 (the smallest normal float) and inf above 88.376. erf: Abramowitz & Stegun
// 7.1.26, absolute error below 6e-7 in float, the approximation PyTorch's vectorised CPU
// GELU uses. Double keeps libm: it is the reference precision of the gradient checks.
// (The selects are on the result, not on x: clamping x first defeats GCC's vectoriser.)
#include <cmath>
#include <cstdint>

namespace pmsdsen::cpu {

inline float vexp(float x) {
  // Adding 1.5 * 2^23 rounds x / ln 2 to an integer held in the low mantissa bits: n as a
  // float, and (unsigned, so never undefined) its bits for 2^n.
  constexpr float kMagic = 12582912.0f;
  const float shifted = x * 1.44269504088896341f + kMagic;
  const float n = shifted - kMagic;
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  const float z = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * z + r + 1.0f;
  const uint32_t ni = __builtin_bit_cast(uint32_t, shifted) - __builtin_bit_cast(uint32_t, kMagic);
  const float v = e * __builtin_bit_cast(float, (ni + 127u) << 23);
  return x < -87.33f ? 0.0f : (x > 88.376f ? __builtin_inff() : v);
}

inline float verf(float x) {
  const float ax = std::fabs(x);
  const float t = 1.0f / (1.0f + 0.3275911f * ax);
  float p = 1.061405429f;
  p = p * t - 1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t - 0.284496736f;
  p = p * t + 0.254829592f;
  const float y = 1.0f - p * t * vexp(-ax * ax);
  return std::copysign(y, x);
}

// erf as a rational function (odd degree-13 over even degree-8 polynomial, the input
// clamped to [-4, 4], where float erf is +-1): no exp, one division, within 1e-6 of the
// true value. The inference plan's GELU uses it (the eager kernels keep verf).
inline float rational_erf(float a) {
  const float x = a > 4.0f ? 4.0f : (a < -4.0f ? -4.0f : a);
  const float x2 = x * x;
  float p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
  p = x2 * p - 2.10102402082508e-06f;
  p = x2 * p - 5.69250639462346e-05f;
  p = x2 * p - 7.34990630326855e-04f;
  p = x2 * p - 2.95459980854025e-03f;
  p = x2 * p - 1.60960333262415e-02f;
  p = x * p;
  float q = x2 * -1.45660718464996e-05f - 2.13374055278905e-04f;
  q = x2 * q - 1.68282697438203e-03f;
  q = x2 * q - 7.37332916720468e-03f;
  q = x2 * q - 1.42647390514189e-02f;
  return p / q;
}

// The CPU kernels' exp and erf: vectorisable for float, libm for double.
inline float cpu_exp(float x) { return vexp(x); }
inline double cpu_exp(double x) { return std::exp(x); }
inline float cpu_erf(float x) { return verf(x); }
inline double cpu_erf(double x) { return std::erf(x); }

// The math policy of the shared formulas in core/activation_math.h, for the CPU kernels.
struct CpuMath {
  template <class T>
  static T exp(T x) {
    return cpu_exp(x);
  }
  template <class T>
  static T erf(T x) {
    return cpu_erf(x);
  }
};

}  // namespace pmsdsen::cpu
