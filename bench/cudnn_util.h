#pragma once
// cuDNN plumbing for the baselines: the handle (on the library stream), checked calls,
// descriptors that free themselves, workspace from our allocator. Include only from
// files compiled with PMSDSEN_WITH_CUDNN.
#include <cudnn.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/tensor.h"

namespace pmsdsen::bench::cudnn {

[[noreturn]] void fail(cudnnStatus_t status, const char* expr, const char* file, int line);

#define PMSDSEN_CUDNN_CHECK(expr)                                                     \
  do {                                                                                \
    const cudnnStatus_t pmsdsen_cudnn_status_ = (expr);                               \
    if (pmsdsen_cudnn_status_ != CUDNN_STATUS_SUCCESS)                                \
      ::pmsdsen::bench::cudnn::fail(pmsdsen_cudnn_status_, #expr, __FILE__, __LINE__); \
  } while (0)

// Created on first use, bound to cuda_env::stream().
cudnnHandle_t handle();

// int for a cuDNN dimension, checked.
int dim(int64_t v, const char* what);

// Float32 NCHW tensor descriptor.
class TensorDesc {
 public:
  TensorDesc(int64_t n, int64_t c, int64_t h, int64_t w);
  explicit TensorDesc(const Tensor& t);  // 4-D float32 (or 1-D [C]: described as 1xCx1x1)
  ~TensorDesc();
  TensorDesc(const TensorDesc&) = delete;
  TensorDesc& operator=(const TensorDesc&) = delete;
  cudnnTensorDescriptor_t get() const { return d_; }

 private:
  cudnnTensorDescriptor_t d_ = nullptr;
};

class FilterDesc {
 public:
  FilterDesc(int64_t k, int64_t c, int64_t h, int64_t w);  // [K, C/groups, h, w]
  ~FilterDesc();
  FilterDesc(const FilterDesc&) = delete;
  FilterDesc& operator=(const FilterDesc&) = delete;
  cudnnFilterDescriptor_t get() const { return d_; }

 private:
  cudnnFilterDescriptor_t d_ = nullptr;
};

class ConvDesc {
 public:
  ConvDesc(int64_t pad, int64_t stride, int64_t dilation, int64_t groups, bool allow_tf32);
  ~ConvDesc();
  ConvDesc(const ConvDesc&) = delete;
  ConvDesc& operator=(const ConvDesc&) = delete;
  cudnnConvolutionDescriptor_t get() const { return d_; }

 private:
  cudnnConvolutionDescriptor_t d_ = nullptr;
};

class PoolDesc {
 public:
  PoolDesc(cudnnPoolingMode_t mode, int64_t kh, int64_t kw, int64_t pad, int64_t stride);
  ~PoolDesc();
  PoolDesc(const PoolDesc&) = delete;
  PoolDesc& operator=(const PoolDesc&) = delete;
  cudnnPoolingDescriptor_t get() const { return d_; }

 private:
  cudnnPoolingDescriptor_t d_ = nullptr;
};

class ActivationDesc {
 public:
  ActivationDesc(cudnnActivationMode_t mode, double swish_beta = 1.0);
  ~ActivationDesc();
  ActivationDesc(const ActivationDesc&) = delete;
  ActivationDesc& operator=(const ActivationDesc&) = delete;
  cudnnActivationDescriptor_t get() const { return d_; }

 private:
  cudnnActivationDescriptor_t d_ = nullptr;
};

// Device memory from the library's caching allocator.
class Workspace {
 public:
  explicit Workspace(size_t bytes);
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  void* get() const { return ptr_; }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// The largest workspace offered to cudnnFind*: 256 MiB, or a quarter of the free memory.
size_t find_workspace_limit();

// Float32 pointers of a set's tensor.
inline float* ptr(const Tensor& t) { return t.data<float>(); }

std::string math_name(cudnnMathType_t m);

}  // namespace pmsdsen::bench::cudnn
