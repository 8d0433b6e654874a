#pragma once
// Run-wide settings of the cuDNN baselines (a plain header: no cuDNN needed to set them).
namespace pmsdsen::bench {

struct CudnnSettings {
  // false: CUDNN_FMA_MATH, float32 arithmetic like ours (the fair comparison);
  // true: CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION... i.e. TF32 tensor cores where cuDNN likes.
  bool allow_tf32 = false;
};

CudnnSettings& cudnn_settings();

}  // namespace pmsdsen::bench
