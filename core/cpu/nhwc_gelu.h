#pragma once
// GELU for the inference plan's epilogues, without exp or division: x * Phi(x) with the
// normal CDF Phi evaluated as a degree-7 polynomial on each of 16 unit intervals of
// [-8, 8) (coefficients picked per lane by a register permute: 16 entries fit one
// AVX-512 register or two AVX ones), x beyond 8 and 0 below -8. Phi is within 6e-8 of
// the true value, so GELU within 5e-7 (the eager kernels' erf is within 5e-7 too).
// Without AVX the rational-erf formula is used.
#include <cstdint>

#include "core/cpu/nhwc_vec.h"
#include "core/cpu/vec_math.h"

namespace pmsdsen::cpu::nhwc {

// kPhiPoly[k][i]: coefficient of t^k on interval i = [i - 8, i - 7), t = x - (i - 7.5).
alignas(64) inline constexpr float kPhiPoly[8][16] = {
    {3.169786814e-14f, 4.009497479e-11f, 1.898396488e-08f, 3.397580071e-06f, 2.326294035e-04f, 6.209666037e-03f, 6.680719625e-02f, 3.085375489e-01f, 6.914624511e-01f, 9.331928038e-01f, 9.937903340e-01f, 9.997673706e-01f, 9.999966024e-01f, 9.999999810e-01f, 1.000000000e+00f, 1.000000000e+00f},
    {2.427791978e-13f, 2.667914267e-10f, 1.076872122e-07f, 1.598366467e-05f, 8.726835042e-04f, 1.752829801e-02f, 1.295175991e-01f, 3.520653250e-01f, 3.520653250e-01f, 1.295175991e-01f, 1.752829801e-02f, 8.726835042e-04f, 1.598366467e-05f, 1.076872116e-07f, 2.667908266e-10f, 2.423521010e-13f},
    {9.391231885e-13f, 8.758511142e-10f, 2.968814532e-07f, 3.597533090e-05f, 1.527153336e-03f, 2.191028368e-02f, 9.713884175e-02f, 8.801503005e-02f, -8.801503005e-02f, -9.713884175e-02f, -2.191028368e-02f, -1.527153336e-03f, -3.597533090e-05f, -2.968814498e-07f, -8.758480176e-10f, -9.361425529e-13f},
    {2.276109784e-12f, 1.844012007e-09f, 5.255780692e-07f, 5.128526065e-05f, 1.636236865e-03f, 1.533739516e-02f, 2.698264683e-02f, -4.400807404e-02f, -4.400807404e-02f, 2.698264683e-02f, 1.533739516e-02f, 1.636236865e-03f, 5.128526068e-05f, 5.255780925e-07f, 1.844035372e-09f, 2.294627868e-12f},
    {3.539811317e-12f, 2.675494991e-09f, 6.584023739e-07f, 5.145906606e-05f, 1.178035005e-03f, 5.935929265e-03f, -6.084122297e-03f, -2.014423730e-02f, 2.014423730e-02f, 6.084122297e-03f, -5.935929265e-03f, -1.178035005e-03f, -5.145906613e-05f, -6.584024197e-07f, -2.675537808e-09f, -3.578880566e-12f},
    {5.256889551e-12f, 3.290267409e-09f, 6.531399590e-07f, 3.877622871e-05f, 5.792295331e-04f, 6.645367975e-04f, -5.866096542e-03f, 4.582864375e-03f, 4.582864375e-03f, -5.866096542e-03f, 6.645367973e-04f, 5.792295329e-04f, 3.877622841e-05f, 6.531397415e-07f, 3.290043397e-09f, 5.074059018e-12f},
    {9.745771067e-12f, 4.325777522e-09f, 6.053702128e-07f, 2.375995535e-05f, 1.753625601e-04f, -5.258789730e-04f, -5.735074016e-04f, 2.902108476e-03f, -2.902108476e-03f, 5.735074018e-04f, 5.258789731e-04f, -1.753625599e-04f, -2.375995514e-05f, -6.053700662e-07f, -4.325637492e-09f, -9.621209910e-12f},
    {8.880365494e-12f, 3.318587363e-09f, 3.686937373e-07f, 9.989616127e-06f, 1.806804971e-05f, -2.525895922e-04f, 5.435231781e-04f, -3.193394130e-04f, -3.193394127e-04f, 5.435231785e-04f, -2.525895917e-04f, 1.806805027e-05f, 9.989616941e-06f, 3.686943088e-07f, 3.319185293e-09f, 9.374858691e-12f},
};

inline float gelu_scalar(float x) { return x * 0.5f * (1.0f + rational_erf(x * 0.70710678118654752f)); }

#if defined(__AVX__)
typedef int32_t vi __attribute__((vector_size(kLanes * sizeof(int32_t))));

inline vf gelu_vector(vf x) {
  const vf lo = splat(-8.0f), hi = splat(7.9999995f);
  vf xc = x < lo ? lo : x;
  xc = xc > hi ? hi : xc;
  const vf shifted = xc + 8.0f;                       // in [0, 16)
  const vi idx = __builtin_convertvector(shifted, vi);  // truncation = floor here
  const vf t = shifted - __builtin_convertvector(idx, vf) - 0.5f;
  auto coef = [&](int k) {
#if defined(__AVX512F__)
    return __builtin_shuffle(load(kPhiPoly[k]), idx);
#else
    return __builtin_shuffle(load(kPhiPoly[k]), load(kPhiPoly[k] + 8), idx);
#endif
  };
  vf p = coef(7);
  for (int k = 6; k >= 0; --k) p = p * t + coef(k);
  const vf y = x * p;
  return x >= splat(8.0f) ? x : (x < lo ? vf{} : y);
}
#endif

// v[0..n) = GELU(v).
inline void gelu_array(float* v, int64_t n) {
  int64_t i = 0;
#if defined(__AVX__)
  for (; i + kLanes <= n; i += kLanes) store(v + i, gelu_vector(load(v + i)));
#endif
  for (; i < n; ++i) v[i] = gelu_scalar(v[i]);
}

}  // namespace pmsdsen::cpu::nhwc
