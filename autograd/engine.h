#pragma once
#include <functional>

#include "core/tensor.h"

namespace pmsdsen::autograd {

// Reverse-mode pass from `root`. Without `grad`, root must hold one element (a loss)
// and its gradient is 1. Runs every node once, after all the nodes that consume its
// output, summing gradients where a tensor fed several ops; leaves accumulate into
// .grad. The graph's saved tensors are freed as it goes.
void backward(const Tensor& root, const Tensor& grad = Tensor());

// While alive, backward() on this thread calls `ready(leaf)` as soon as a leaf's gradient
// of the pass is complete (its accumulator ran: every op that used the leaf has passed
// its part). Data-parallel training starts reducing gradients then, while backward goes
// on (autograd/grad_average.h). Not nested: one hook a thread.
class LeafGradReadyHook {
 public:
  explicit LeafGradReadyHook(std::function<void(const Tensor& leaf)> ready);
  ~LeafGradReadyHook();
  LeafGradReadyHook(const LeafGradReadyHook&) = delete;
  LeafGradReadyHook& operator=(const LeafGradReadyHook&) = delete;
};

}  // namespace pmsdsen::autograd

namespace pmsdsen {
using autograd::backward;
}
