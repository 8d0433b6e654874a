#pragma once
// The two backends behind one set of kernel signatures, and the one place that chooses
// between them. CpuBackend<T> (core/cpu, float and double) and CudaBackend (cuda/,
// float) have the same static members, with the same arguments, for every kernel an op
// uses; an op picks the backend once, with on_backend(tensor, op, f), and writes each
// pass once as a template of it:
//
//   return on_backend(x, "gelu", [&](auto b) {
//     using B = decltype(b);
//     using T = typename B::Scalar;
//     B::gelu_forward(x.data<T>(), y.data<T>(), n);
//     ...   // the backward closure uses B too: the choice is made once per op call
//   });
//
// autograd's ops, SGD, the confusion matrix (data/) and the benchmarks (bench/) all go
// through here. Kernels that do not depend on the element type (copies of raw bytes,
// integer counts) are members of CpuDevice / CudaDevice, chosen by on_device.
#include <utility>
#include <vector>

#include "core/cpu/activation.h"
#include "core/cpu/argmax.h"
#include "core/cpu/basic.h"
#include "core/cpu/conv.h"
#include "core/cpu/gemm.h"
#include "core/cpu/loss.h"
#include "core/cpu/metrics.h"
#include "core/cpu/norm.h"
#include "core/cpu/optim.h"
#include "core/cpu/pool.h"
#include "core/cpu/resize.h"
#include "core/tensor.h"

#ifdef PMSDSEN_WITH_CUDA
#include "cuda/activation.h"
#include "cuda/argmax.h"
#include "cuda/basic.h"
#include "cuda/blas.h"
#include "cuda/conv.h"
#include "cuda/loss.h"
#include "cuda/metrics.h"
#include "cuda/norm.h"
#include "cuda/optim.h"
#include "cuda/pool.h"
#include "cuda/resize.h"
#endif

namespace pmsdsen::autograd {

// The typed kernels with one signature on both backends (T the backend's Scalar).
#define PMSDSEN_BACKEND_KERNELS(K)                                                                   \
  K(axpby) K(mul) K(mul_channel) K(dot_planes) K(fill) K(broadcast_scalar) K(gemm)                   \
  K(conv2d_forward) K(conv2d_backward_input) K(conv2d_backward_weight) K(conv_add_bias)              \
  K(conv_bias_backward) K(channel_conv1d_forward) K(channel_conv1d_backward_input)                  \
  K(channel_conv1d_backward_weight) K(batch_norm_train_stats) K(batch_norm_eval_params)             \
  K(batch_norm_apply) K(batch_norm_backward) K(gelu_forward) K(gelu_backward) K(leaky_relu_forward) \
  K(leaky_relu_backward) K(sigmoid_forward) K(sigmoid_backward) K(prelu_forward) K(prelu_backward)  \
  K(softmax_groups_forward) K(softmax_groups_backward) K(avg_pool2d_forward) K(avg_pool2d_backward)  \
  K(max_pool2d_forward) K(max_pool2d_backward) K(global_avg_pool_forward)                           \
  K(global_avg_pool_backward) K(bilinear_forward) K(bilinear_backward) K(argmax_channels)                \
  K(epilogue) K(conv2d_forward_epilogue) K(conv2d_window_forward_epilogue)                       \
  K(channel_conv1d_sigmoid_forward)

#define PMSDSEN_CPU_KERNEL(name)                 \
  template <class... A>                          \
  static void name(A&&... a) {                   \
    cpu::name<T>(std::forward<A>(a)...);         \
  }
#define PMSDSEN_CUDA_KERNEL(name)                \
  template <class... A>                          \
  static void name(A&&... a) {                   \
    cuda::name(std::forward<A>(a)...);           \
  }

struct CpuDevice {
  static constexpr bool is_cuda = false;
  static Device device() { return Device::cpu(); }
  static void copy_channels(const void* src, int64_t src_channels, int64_t src_first, void* dst,
                            int64_t dst_channels, int64_t dst_first, int64_t channels, int64_t batch,
                            int64_t plane_bytes) {
    cpu::copy_channels(src, src_channels, src_first, dst, dst_channels, dst_first, channels, batch, plane_bytes);
  }
  // counts[l * classes + p] += pixels labelled l predicted p; the last of the
  // classes * classes + 1 counts takes the pixels outside [0, classes) (not ignored).
  static void confusion_counts(const int64_t* labels, const int64_t* predictions, int64_t n, int64_t classes,
                               int64_t ignore_label, int64_t* host_counts) {
    cpu::confusion_counts(labels, predictions, n, classes, ignore_label, host_counts);
  }
};

template <class T>
struct CpuBackend : CpuDevice {
  using Scalar = T;
  PMSDSEN_BACKEND_KERNELS(PMSDSEN_CPU_KERNEL)

  static void sum(const T* x, T* out, int64_t n) { *out = cpu::sum<T>(x, n); }

  // The cross-entropy steps, with CUDA's signatures (results through pointers).
  static void cross_entropy_pixels(const T* x, const int64_t* target, int64_t N, int64_t K, int64_t S,
                                   int64_t ignore_index, T* lse, T* nll, T* prob) {
    cpu::cross_entropy_pixels<T>(x, target, N, K, S, ignore_index, lse, nll, prob);  // select counts bad targets
  }
  static void ohem_threshold(const T* prob, const int64_t* target, int64_t pixels, int64_t K, int64_t ignore_index,
                             int64_t min_kept, double thresh, T* threshold) {
    *threshold = cpu::ohem_threshold<T>(prob, target, pixels, K, ignore_index, min_kept, thresh);
  }
  static void cross_entropy_select(const int64_t* target, const T* nll, const T* prob, const T* weight,
                                   int64_t pixels, int64_t K, int64_t ignore_index, bool ohem, const T* threshold,
                                   T* coef, T* loss, T* den, int64_t* bad) {
    double num = 0.0, sum_w = 0.0;
    cpu::cross_entropy_select<T>(target, nll, prob, weight, pixels, K, ignore_index, ohem,
                                 threshold ? *threshold : T(0), coef, &num, &sum_w);
    *loss = static_cast<T>(sum_w > 0.0 ? num / sum_w : 0.0);
    *den = static_cast<T>(sum_w);
    *bad = cpu::bad_targets(target, pixels, K, ignore_index);
  }
  static void cross_entropy_backward(const T* x, const int64_t* target, const T* lse, const T* coef,
                                     const T* grad_loss, const T* den, T* gx, int64_t N, int64_t K, int64_t S) {
    const double d = *den;
    const T scale = static_cast<T>(d > 0.0 ? static_cast<double>(*grad_loss) / d : 0.0);
    cpu::cross_entropy_backward<T>(x, target, lse, coef, scale, gx, N, K, S);
  }

  // SGD over many tensors at once; the optimizer keeps one SgdRunner per backend.
  using SgdSlot = cpu::SgdSlot<T>;
  struct SgdRunner {
    void step(const std::vector<SgdSlot>& slots, double lr, double momentum, double weight_decay) {
      cpu::sgd_step<T>(slots.data(), static_cast<int64_t>(slots.size()), lr, momentum, weight_decay);
    }
  };
  static SgdSlot sgd_slot(T* param, const T* grad, T* buf, int64_t numel, bool first_step) {
    return {param, grad, buf, numel, first_step};
  }
};

#ifdef PMSDSEN_WITH_CUDA
struct CudaDevice {
  static constexpr bool is_cuda = true;
  static Device device() { return Device::cuda(); }
  static void copy_channels(const void* src, int64_t src_channels, int64_t src_first, void* dst,
                            int64_t dst_channels, int64_t dst_first, int64_t channels, int64_t batch,
                            int64_t plane_bytes) {
    cuda::copy_channels(src, src_channels, src_first, dst, dst_channels, dst_first, channels, batch, plane_bytes);
  }
  static void confusion_counts(const int64_t* labels, const int64_t* predictions, int64_t n, int64_t classes,
                               int64_t ignore_label, int64_t* host_counts) {
    cuda::confusion_counts(labels, predictions, n, classes, ignore_label, host_counts);
  }
};

struct CudaBackend : CudaDevice {
  using Scalar = float;
  PMSDSEN_BACKEND_KERNELS(PMSDSEN_CUDA_KERNEL)
  PMSDSEN_CUDA_KERNEL(sum)
  PMSDSEN_CUDA_KERNEL(cross_entropy_pixels)
  PMSDSEN_CUDA_KERNEL(ohem_threshold)
  PMSDSEN_CUDA_KERNEL(cross_entropy_select)
  PMSDSEN_CUDA_KERNEL(cross_entropy_backward)

  using SgdSlot = cuda::SgdSlot;
  using SgdRunner = cuda::FusedSgd;
  static SgdSlot sgd_slot(float* param, const float* grad, float* buf, int64_t numel, bool first_step) {
    return {param, grad, buf, numel, first_step ? 1 : 0};
  }
};
#endif

#undef PMSDSEN_CPU_KERNEL
#undef PMSDSEN_CUDA_KERNEL

// t's elements, or null when t is undefined (optional operands).
template <class T>
T* data_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

[[noreturn]] void no_cuda_backend(const char* op);
[[noreturn]] void not_floating(const Tensor& t, const char* op);
[[noreturn]] void cuda_needs_float32(const Tensor& t, const char* op);

// f(CpuBackend<float>{}), f(CpuBackend<double>{}) or f(CudaBackend{}), by t's device and
// dtype (CUDA computes in float32 only); errors name `op`.
template <class F>
decltype(auto) on_backend(const Tensor& t, const char* op, F&& f) {
  if (t.is_cuda()) {
#ifdef PMSDSEN_WITH_CUDA
    if (t.dtype() != DType::F32) cuda_needs_float32(t, op);
    return f(CudaBackend{});
#else
    no_cuda_backend(op);
#endif
  }
  if (t.dtype() == DType::F64) return f(CpuBackend<double>{});
  if (t.dtype() != DType::F32) not_floating(t, op);
  return f(CpuBackend<float>{});
}

// For float32 code (the benchmarks): f(CpuBackend<float>{}) or f(CudaBackend{}).
template <class F>
decltype(auto) on_backend_f32(const Tensor& t, const char* op, F&& f) {
  if (t.dtype() != DType::F32) PMSDSEN_FAIL(op, ": expected a float32 tensor, got ", t.str());
  if (t.is_cuda()) {
#ifdef PMSDSEN_WITH_CUDA
    return f(CudaBackend{});
#else
    no_cuda_backend(op);
#endif
  }
  return f(CpuBackend<float>{});
}

// f(CpuDevice{}) or f(CudaDevice{}), by t's device only.
template <class F>
decltype(auto) on_device(const Tensor& t, const char* op, F&& f) {
  if (t.is_cuda()) {
#ifdef PMSDSEN_WITH_CUDA
    (void)op;
    return f(CudaDevice{});
#else
    no_cuda_backend(op);
#endif
  }
  return f(CpuDevice{});
}

}  // namespace pmsdsen::autograd
