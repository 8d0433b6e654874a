#include "core/tensor.h"

#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/allocator.h"

#ifdef PMSDSEN_WITH_CUDA
#include "core/cuda_env.h"
#endif

namespace pmsdsen {

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Storage::Storage(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  data_ = allocate(bytes, device);
}

Storage::~Storage() { deallocate(data_, bytes_, device_); }

namespace {

std::atomic<bool> g_poison{false};

void copy_bytes(void* dst, Device dst_dev, const void* src, Device src_dev, size_t n) {
  if (n == 0) return;
  if (dst_dev.is_cpu() && src_dev.is_cpu()) {
    std::memcpy(dst, src, n);
    return;
  }
#ifdef PMSDSEN_WITH_CUDA
  cudaMemcpyKind kind = dst_dev.is_cuda() ? (src_dev.is_cuda() ? cudaMemcpyDeviceToDevice
                                                               : cudaMemcpyHostToDevice)
                                          : cudaMemcpyDeviceToHost;
  PMSDSEN_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, kind, cuda_env::stream()));
  // Host memory may be pageable or reused at once by the caller: wait for host copies.
  if (kind != cudaMemcpyDeviceToDevice) PMSDSEN_CUDA_CHECK(cudaStreamSynchronize(cuda_env::stream()));
#else
  PMSDSEN_FAIL("copy to or from a CUDA tensor in a build without CUDA");
#endif
}

template <class T>
void fill_host(void* p, int64_t n, double value) {
  T* t = static_cast<T*>(p);
  const T v = static_cast<T>(value);
  for (int64_t i = 0; i < n; ++i) t[i] = v;
}

void fill_host_dtype(void* p, DType dtype, int64_t n, double value) {
  switch (dtype) {
    case DType::F32: fill_host<float>(p, n, value); break;
    case DType::F64: fill_host<double>(p, n, value); break;
    case DType::I32: fill_host<int32_t>(p, n, value); break;
    case DType::I64: fill_host<int64_t>(p, n, value); break;
    case DType::U8: fill_host<uint8_t>(p, n, value); break;
  }
}

template <class To, class From>
void convert(const void* src, void* dst, int64_t n) {
  const From* s = static_cast<const From*>(src);
  To* d = static_cast<To*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = static_cast<To>(s[i]);
}

template <class To>
void convert_from(DType from, const void* src, void* dst, int64_t n) {
  switch (from) {
    case DType::F32: convert<To, float>(src, dst, n); break;
    case DType::F64: convert<To, double>(src, dst, n); break;
    case DType::I32: convert<To, int32_t>(src, dst, n); break;
    case DType::I64: convert<To, int64_t>(src, dst, n); break;
    case DType::U8: convert<To, uint8_t>(src, dst, n); break;
  }
}

void convert_dtype(DType from, const void* src, DType to, void* dst, int64_t n) {
  switch (to) {
    case DType::F32: convert_from<float>(from, src, dst, n); break;
    case DType::F64: convert_from<double>(from, src, dst, n); break;
    case DType::I32: convert_from<int32_t>(from, src, dst, n); break;
    case DType::I64: convert_from<int64_t>(from, src, dst, n); break;
    case DType::U8: convert_from<uint8_t>(from, src, dst, n); break;
  }
}

}  // namespace

void set_poison_uninitialized(bool on) { g_poison = on; }
bool poison_uninitialized() { return g_poison; }

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape)
    PMSDSEN_CHECK(d >= 0, "tensor: negative dimension in shape ", shape_str(shape));
  require_device(device, "tensor");
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->dtype = dtype;
  impl->device = device;
  impl->storage = std::make_shared<Storage>(shape_numel(shape) * dtype_size(dtype), device);
  Tensor t(std::move(impl));
  if (g_poison) {
    const double poison = is_floating(dtype) ? std::numeric_limits<double>::quiet_NaN() : 77;
    t.fill_(poison);
  }
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.zero_();
  return t;
}

Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) {
  return full(shape, 1.0, dtype, device);
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  PMSDSEN_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), "tensor from_vector: ",
                values.size(), " values for shape ", shape_str(shape));
  Tensor t = empty(shape, dtype_of<T>(), device);
  copy_bytes(t.raw_data(), device, values.data(), Device::cpu(), values.size() * sizeof(T));
  return t;
}

int64_t Tensor::size(int64_t d) const {
  const int64_t n = dim();
  const int64_t i = d < 0 ? d + n : d;
  PMSDSEN_CHECK(i >= 0 && i < n, "tensor size(", d, ") of a ", str());
  return shape()[i];
}

std::string Tensor::str() const {
  if (!defined()) return "undefined tensor";
  return pmsdsen::str(dtype_name(dtype()), shape_str(shape()), " on ", device().str());
}

void* Tensor::raw_data() const {
  const TensorImpl& t = checked();
  return t.storage->data() ? static_cast<char*>(t.storage->data()) + t.offset : nullptr;
}

Tensor Tensor::to(Device target) const {
  if (target == device()) return *this;
  Tensor out = empty(shape(), dtype(), target);
  copy_bytes(out.raw_data(), target, raw_data(), device(), nbytes());
  return out;
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return *this;
  Tensor host = cpu();
  Tensor out = empty(shape(), target, Device::cpu());
  convert_dtype(dtype(), host.raw_data(), target, out.raw_data(), numel());
  return out.to(device());
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  copy_bytes(out.raw_data(), device(), raw_data(), device(), nbytes());
  return out;
}

void Tensor::copy_(const Tensor& src) {
  PMSDSEN_CHECK(src.shape() == shape() && src.dtype() == dtype(), "copy_: source ", src.str(),
                " does not match destination ", str());
  copy_bytes(raw_data(), device(), src.raw_data(), src.device(), nbytes());
}

Tensor Tensor::view(const Shape& new_shape) const {
  Shape s = new_shape;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      PMSDSEN_CHECK(infer < 0, "view: more than one -1 in ", shape_str(new_shape));
      infer = static_cast<int64_t>(i);
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0) {
    PMSDSEN_CHECK(known > 0 && numel() % known == 0, "view: cannot view ", str(), " as ",
                  shape_str(new_shape));
    s[infer] = numel() / known;
  }
  PMSDSEN_CHECK(shape_numel(s) == numel(), "view: cannot view ", str(), " as ", shape_str(new_shape));
  auto impl = std::make_shared<TensorImpl>(*impl_);
  impl->shape = s;
  impl->requires_grad = false;
  impl->grad.reset();
  impl->grad_fn.reset();
  impl->grad_accumulator.reset();
  return Tensor(std::move(impl));
}

Tensor Tensor::narrow_batch(int64_t start, int64_t length) const {
  PMSDSEN_CHECK(dim() >= 1 && start >= 0 && length >= 0 && start + length <= size(0),
                "narrow_batch(", start, ", ", length, ") of a ", str());
  Tensor t = view(shape());
  const int64_t row = size(0) ? numel() / size(0) : 0;
  t.impl_->offset += static_cast<size_t>(start * row) * dtype_size(dtype());
  t.impl_->shape[0] = length;
  return t;
}

Tensor Tensor::detach() const { return view(shape()); }

void Tensor::fill_(double value) {
  const int64_t n = numel();
  if (n == 0) return;
  if (device().is_cpu()) {
    fill_host_dtype(raw_data(), dtype(), n, value);
    return;
  }
#ifdef PMSDSEN_WITH_CUDA
  if (value == 0.0) {
    PMSDSEN_CUDA_CHECK(cudaMemsetAsync(raw_data(), 0, nbytes(), cuda_env::stream()));
    return;
  }
#endif
  Tensor host = empty(shape(), dtype(), Device::cpu());
  fill_host_dtype(host.raw_data(), dtype(), n, value);
  copy_(host);
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  PMSDSEN_CHECK(dtype() == dtype_of<T>(), "to_vector<", dtype_name(dtype_of<T>()), "> of a ", str());
  std::vector<T> v(static_cast<size_t>(numel()));
  copy_bytes(v.data(), Device::cpu(), raw_data(), device(), nbytes());
  return v;
}

template <class T>
T Tensor::item() const {
  PMSDSEN_CHECK(numel() == 1, "item() of a ", str(), ": expected exactly one element");
  return to_vector<T>()[0];
}

double Tensor::item_double() const {
  PMSDSEN_CHECK(numel() == 1, "item() of a ", str(), ": expected exactly one element");
  return to(DType::F64).item<double>();
}

Tensor& Tensor::set_requires_grad(bool value) {
  PMSDSEN_CHECK(is_leaf(), "set_requires_grad on a tensor produced by an op (",
                str(), "); detach() it first");
  PMSDSEN_CHECK(!value || is_floating(dtype()), "set_requires_grad on a ", str(),
                ": only float tensors can have gradients");
  checked().requires_grad = value;
  return *this;
}

#define PMSDSEN_INSTANTIATE(T)                                                                  \
  template Tensor Tensor::from_vector<T>(const std::vector<T>&, const Shape&, Device);          \
  template std::vector<T> Tensor::to_vector<T>() const;                                         \
  template T Tensor::item<T>() const;
PMSDSEN_INSTANTIATE(float)
PMSDSEN_INSTANTIATE(double)
PMSDSEN_INSTANTIATE(int32_t)
PMSDSEN_INSTANTIATE(int64_t)
PMSDSEN_INSTANTIATE(uint8_t)
#undef PMSDSEN_INSTANTIATE

void check_defined(const Tensor& t, const char* op, const char* arg) {
  PMSDSEN_CHECK(t.defined(), op, ": argument '", arg, "' is an undefined tensor");
}

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  PMSDSEN_CHECK(a.device() == b.device(), op, ": tensors on different devices: ", a.str(), " and ",
                b.str());
}

void check_same_dtype(const Tensor& a, const Tensor& b, const char* op) {
  PMSDSEN_CHECK(a.dtype() == b.dtype(), op, ": tensors of different dtypes: ", a.str(), " and ",
                b.str());
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* op) {
  PMSDSEN_CHECK(a.shape() == b.shape(), op, ": shapes differ: ", shape_str(a.shape()), " and ",
                shape_str(b.shape()));
}

void check_dim(const Tensor& t, int64_t dim, const char* op, const char* arg) {
  PMSDSEN_CHECK(t.dim() == dim, op, ": '", arg, "' must have ", dim, " dimensions, got ", t.str());
}

void check_floating(const Tensor& t, const char* op, const char* arg) {
  PMSDSEN_CHECK(is_floating(t.dtype()), op, ": '", arg, "' must be float32 or float64, got ",
                t.str());
}

}  // namespace pmsdsen
