#include "layers/pooling.h"

#include "autograd/ops_pool.h"

namespace pmsdsen {

Tensor AvgPool2d::forward(const Tensor& x) { return ops::avg_pool2d(x, k_, s_, p_); }
Tensor MaxPool2d::forward(const Tensor& x) { return ops::max_pool2d(x, k_, s_, p_); }
Tensor GlobalAvgPool::forward(const Tensor& x) { return ops::global_avg_pool(x); }

}  // namespace pmsdsen
