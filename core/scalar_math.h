#pragma once
// float/double overloads of the C math functions, callable from host and device code,
// so templates over T pick the single-precision function for float on both backends.
#include <math.h>

#include "core/hd.h"

namespace pmsdsen::hd {

PMSDSEN_HD float exp_(float x) { return expf(x); }
PMSDSEN_HD double exp_(double x) { return exp(x); }
PMSDSEN_HD float log_(float x) { return logf(x); }
PMSDSEN_HD double log_(double x) { return log(x); }
PMSDSEN_HD float erf_(float x) { return erff(x); }
PMSDSEN_HD double erf_(double x) { return erf(x); }
PMSDSEN_HD float sqrt_(float x) { return sqrtf(x); }
PMSDSEN_HD double sqrt_(double x) { return sqrt(x); }

template <class T>
PMSDSEN_HD bool isnan_(T x) {
  return x != x;
}

template <class T>
PMSDSEN_HD T max_(T a, T b) {
  return a < b ? b : a;
}

template <class T>
PMSDSEN_HD T min_(T a, T b) {
  return b < a ? b : a;
}

}  // namespace pmsdsen::hd
