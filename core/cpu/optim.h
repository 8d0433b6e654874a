#pragma once
// CPU kernel of SGD with momentum and weight decay (PyTorch semantics, dampening 0):
//   d = g + weight_decay * p;  buf = d (first step) or momentum * buf + d;  p -= lr * buf
// (without momentum buffer, buf == nullptr: p -= lr * d). All tensors of one step in one
// parallel loop over fixed-size pieces.
#include <cstdint>

namespace pmsdsen::cpu {

template <class T>
struct SgdSlot {
  T* param;
  const T* grad;
  T* buf;  // null when momentum is 0
  int64_t numel;
  bool first_step;  // buf is uninitialised: set it to d
};

template <class T>
void sgd_step(const SgdSlot<T>* slots, int64_t count, double lr, double momentum,
              double weight_decay);

}  // namespace pmsdsen::cpu
