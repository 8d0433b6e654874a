// Gradient-check cases of the convolutions (to be filled in with the kernels).
#include "autograd/gradcheck_suite.h"

namespace pmsdsen::autograd {

void add_conv_grad_cases(std::vector<GradCase>&) {}

}  // namespace pmsdsen::autograd
