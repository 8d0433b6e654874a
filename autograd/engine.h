#pragma once
#include "core/tensor.h"

namespace pmsdsen::autograd {

// Reverse-mode pass from `root`. Without `grad`, root must hold one element (a loss)
// and its gradient is 1. Runs every node once, after all the nodes that consume its
// output, summing gradients where a tensor fed several ops; leaves accumulate into
// .grad. The graph's saved tensors are freed as it goes.
void backward(const Tensor& root, const Tensor& grad = Tensor());

}  // namespace pmsdsen::autograd

namespace pmsdsen {
using autograd::backward;
}
