#include "core/cpu/optim.h"

#include <algorithm>
#include <vector>

#include "core/cpu/grain.h"
#include "core/parallel.h"

namespace pmsdsen::cpu {

template <class T>
void sgd_step(const SgdSlot<T>* slots, int64_t count, double lr, double momentum,
              double weight_decay) {
  constexpr int64_t kPiece = 1 << 14;
  struct Piece {
    int64_t slot, lo, hi;
  };
  std::vector<Piece> pieces;
  for (int64_t s = 0; s < count; ++s)
    for (int64_t lo = 0; lo < slots[s].numel; lo += kPiece)
      pieces.push_back({s, lo, std::min(slots[s].numel, lo + kPiece)});
  const T lr_t = static_cast<T>(lr), m = static_cast<T>(momentum), wd = static_cast<T>(weight_decay);
  parallel_for(0, static_cast<int64_t>(pieces.size()), [&](int64_t i) {
    const Piece& piece = pieces[i];
    const SgdSlot<T>& s = slots[piece.slot];
    T* p = s.param;
    const T* g = s.grad;
    T* b = s.buf;
    for (int64_t j = piece.lo; j < piece.hi; ++j) {
      const T d = g[j] + wd * p[j];
      T step = d;
      if (b) {
        step = s.first_step ? d : m * b[j] + d;
        b[j] = step;
      }
      p[j] -= lr_t * step;
    }
  }, grain_for(kPiece));
}

template void sgd_step<float>(const SgdSlot<float>*, int64_t, double, double, double);
template void sgd_step<double>(const SgdSlot<double>*, int64_t, double, double, double);

}  // namespace pmsdsen::cpu
