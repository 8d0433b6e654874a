#pragma once
// The inference epilogue of core/epilogue_math.h with tensors (ops::epilogue,
// ops::conv2d_epilogue), and its translation to the kernels' pointers, checked.
#include "core/epilogue_math.h"
#include "core/tensor.h"

namespace pmsdsen::ops {

// y = act((v * scale + residual * residual_scale) * mul + add); every tensor optional.
struct EpilogueSpec {
  Tensor scale;           // [N, C, 1, 1]: a per-sample channel scale (ECA)
  Tensor residual;        // the output's shape
  Tensor residual_scale;  // [N, C, 1, 1], only with a residual
  Tensor mul, add;        // [C]: a folded batch norm, or add alone a bias
  EpiAct act = EpiAct::None;
  Tensor slope;           // PReLU: [C] or [1]
  double leaky_slope = 0;  // LeakyReLU
};

// Checks every tensor of e against an output of `shape` (dtype and device of `like`) and
// returns their pointers. `op` names the caller in messages.
template <class T>
Epilogue<T> epilogue_args(const EpilogueSpec& e, const Shape& shape, const Tensor& like, const char* op);

// Inference only: fails when gradients are recorded and any operand needs one.
void check_inference_only(const char* op, std::initializer_list<const Tensor*> operands);

}  // namespace pmsdsen::ops
