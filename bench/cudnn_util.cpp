#ifdef PMSDSEN_WITH_CUDNN
#include "bench/cudnn_util.h"

#include <algorithm>
#include <limits>

#include "core/allocator.h"
#include "core/cuda_env.h"

namespace pmsdsen::bench::cudnn {

void fail(cudnnStatus_t status, const char* expr, const char* file, int line) {
  char detail[1024] = {0};
  cudnnGetLastErrorString(detail, sizeof detail);
  throw_error(file, line, str("cuDNN ", expr, " returned ", cudnnGetErrorString(status),
                              detail[0] ? str(" (", detail, ")") : std::string()));
}

cudnnHandle_t handle() {
  static cudnnHandle_t h = [] {
    cudnnHandle_t created = nullptr;
    PMSDSEN_CUDNN_CHECK(cudnnCreate(&created));
    PMSDSEN_CUDNN_CHECK(cudnnSetStream(created, cuda_env::stream()));
    return created;
  }();
  return h;
}

int dim(int64_t v, const char* what) {
  PMSDSEN_CHECK(v >= 0 && v <= std::numeric_limits<int>::max(), "cuDNN baseline: ", what, " ", v,
                " does not fit an int");
  return static_cast<int>(v);
}

TensorDesc::TensorDesc(int64_t n, int64_t c, int64_t h, int64_t w) {
  PMSDSEN_CUDNN_CHECK(cudnnCreateTensorDescriptor(&d_));
  PMSDSEN_CUDNN_CHECK(cudnnSetTensor4dDescriptor(d_, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, dim(n, "N"),
                                                 dim(c, "C"), dim(h, "H"), dim(w, "W")));
}

namespace {
int64_t size_or_1(const Tensor& t, int64_t d) { return d < t.dim() ? t.size(d) : 1; }
}  // namespace

TensorDesc::TensorDesc(const Tensor& t)
    : TensorDesc(t.dim() == 1 ? 1 : size_or_1(t, 0), t.dim() == 1 ? t.size(0) : size_or_1(t, 1),
                 t.dim() == 1 ? 1 : size_or_1(t, 2), t.dim() == 1 ? 1 : size_or_1(t, 3)) {
  PMSDSEN_CHECK(t.dtype() == DType::F32 && t.dim() <= 4, "cuDNN baseline: cannot describe ", t.str());
}

TensorDesc::~TensorDesc() {
  if (d_) cudnnDestroyTensorDescriptor(d_);
}

FilterDesc::FilterDesc(int64_t k, int64_t c, int64_t h, int64_t w) {
  PMSDSEN_CUDNN_CHECK(cudnnCreateFilterDescriptor(&d_));
  PMSDSEN_CUDNN_CHECK(cudnnSetFilter4dDescriptor(d_, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, dim(k, "K"),
                                                 dim(c, "C"), dim(h, "kH"), dim(w, "kW")));
}

FilterDesc::~FilterDesc() {
  if (d_) cudnnDestroyFilterDescriptor(d_);
}

ConvDesc::ConvDesc(int64_t pad, int64_t stride, int64_t dilation, int64_t groups, bool allow_tf32) {
  PMSDSEN_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&d_));
  PMSDSEN_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
      d_, dim(pad, "pad"), dim(pad, "pad"), dim(stride, "stride"), dim(stride, "stride"),
      dim(dilation, "dilation"), dim(dilation, "dilation"), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  PMSDSEN_CUDNN_CHECK(cudnnSetConvolutionGroupCount(d_, dim(groups, "groups")));
  PMSDSEN_CUDNN_CHECK(cudnnSetConvolutionMathType(d_, allow_tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH));
}

ConvDesc::~ConvDesc() {
  if (d_) cudnnDestroyConvolutionDescriptor(d_);
}

PoolDesc::PoolDesc(cudnnPoolingMode_t mode, int64_t kh, int64_t kw, int64_t pad, int64_t stride) {
  PMSDSEN_CUDNN_CHECK(cudnnCreatePoolingDescriptor(&d_));
  PMSDSEN_CUDNN_CHECK(cudnnSetPooling2dDescriptor(d_, mode, CUDNN_PROPAGATE_NAN, dim(kh, "window"),
                                                  dim(kw, "window"), dim(pad, "pad"), dim(pad, "pad"),
                                                  dim(stride, "stride"), dim(stride, "stride")));
}

PoolDesc::~PoolDesc() {
  if (d_) cudnnDestroyPoolingDescriptor(d_);
}

ActivationDesc::ActivationDesc(cudnnActivationMode_t mode, double swish_beta) {
  PMSDSEN_CUDNN_CHECK(cudnnCreateActivationDescriptor(&d_));
  PMSDSEN_CUDNN_CHECK(cudnnSetActivationDescriptor(d_, mode, CUDNN_PROPAGATE_NAN, 0.0));
  if (mode == CUDNN_ACTIVATION_SWISH) PMSDSEN_CUDNN_CHECK(cudnnSetActivationDescriptorSwishBeta(d_, swish_beta));
}

ActivationDesc::~ActivationDesc() {
  if (d_) cudnnDestroyActivationDescriptor(d_);
}

Workspace::Workspace(size_t bytes) : bytes_(bytes) {
  if (bytes_ > 0) ptr_ = allocate(bytes_, Device::cuda());
}

Workspace::~Workspace() {
  if (ptr_) deallocate(ptr_, bytes_, Device::cuda());
}

size_t find_workspace_limit() {
  size_t free_bytes = 0, total = 0;
  PMSDSEN_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
  return std::min<size_t>(size_t(256) << 20, free_bytes / 4);
}

std::string math_name(cudnnMathType_t m) {
  switch (m) {
    case CUDNN_DEFAULT_MATH: return "default math";
    case CUDNN_TENSOR_OP_MATH: return "tensor-op math";
    case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION: return "tensor-op math (conversion allowed)";
    case CUDNN_FMA_MATH: return "FMA math";
  }
  return "math type " + std::to_string(static_cast<int>(m));
}

}  // namespace pmsdsen::bench::cudnn
#endif  // PMSDSEN_WITH_CUDNN
