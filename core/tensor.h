#pragma once
// The tensor: a shape, a dtype and a device over contiguous (row-major, NCHW) storage,
// plus the autograd fields that autograd/ fills in. Every tensor is contiguous; a view
// (view(), narrow_batch(), detach()) shares storage with its source.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"

namespace pmsdsen {

namespace autograd {
struct Node;
}

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& shape);  // "[2, 3, 64, 128]"
int64_t shape_numel(const Shape& shape);

// Owns one allocation from the allocator; freed when the last tensor using it dies.
class Storage {
 public:
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  size_t offset = 0;  // in bytes, for views along the batch dimension
  Shape shape;
  DType dtype = DType::F32;
  Device device;
  // Autograd state (see autograd/). A leaf that requires grad gets `grad` filled by
  // backward(); a non-leaf records the node that produced it in `grad_fn`.
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<autograd::Node> grad_fn;
  std::weak_ptr<autograd::Node> grad_accumulator;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- creation --------------------------------------------------------------
  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor ones(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::F32,
                     Device device = Device::cpu());
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape,
                            Device device = Device::cpu());
  static Tensor empty_like(const Tensor& t) { return empty(t.shape(), t.dtype(), t.device()); }
  static Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }

  // ---- properties ------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return checked().shape; }
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t numel() const { return shape_numel(shape()); }
  DType dtype() const { return checked().dtype; }
  Device device() const { return checked().device; }
  bool is_cuda() const { return device().is_cuda(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype()); }
  std::string str() const;  // "float32[2, 3] on cpu"

  void* raw_data() const;
  template <class T>
  T* data() const {
    PMSDSEN_CHECK(dtype() == dtype_of<T>(), "tensor data<", dtype_name(dtype_of<T>()),
                  ">() on a ", str());
    return static_cast<T*>(raw_data());
  }

  // ---- copies and views (none of these are recorded by autograd) ---------------
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;
  Tensor cpu() const { return to(Device::cpu()); }
  Tensor clone() const;
  void copy_(const Tensor& src);        // same shape and dtype, any devices
  Tensor view(const Shape& shape) const;  // same numel, shares storage; one dim may be -1
  Tensor narrow_batch(int64_t start, int64_t length) const;  // rows of dim 0, shares storage
  Tensor detach() const;                // shares storage, no autograd history
  void fill_(double value);
  void zero_() { fill_(0.0); }

  template <class T>
  std::vector<T> to_vector() const;
  template <class T>
  T item() const;
  double item_double() const;  // any dtype, one element

  // ---- autograd ----------------------------------------------------------------
  bool requires_grad() const { return checked().requires_grad; }
  // Only leaves (tensors no op produced) can be switched; returns *this.
  Tensor& set_requires_grad(bool value);
  bool is_leaf() const { return checked().grad_fn == nullptr; }
  Tensor grad() const { return Tensor(checked().grad); }
  void set_grad(const Tensor& g) { checked().grad = g.impl_; }
  const std::shared_ptr<autograd::Node>& grad_fn() const { return checked().grad_fn; }

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  TensorImpl& checked() const {
    PMSDSEN_CHECK(impl_ != nullptr, "use of an undefined tensor");
    return *impl_;
  }
  std::shared_ptr<TensorImpl> impl_;
};

// Debugging aid for kernel tests: when on, Tensor::empty fills new float tensors with
// NaN (integers with a large value), so an output element a kernel forgot to write shows.
void set_poison_uninitialized(bool on);
bool poison_uninitialized();

// Argument checks shared by every op; the message names the op and the tensors.
void check_defined(const Tensor& t, const char* op, const char* arg);
void check_same_device(const Tensor& a, const Tensor& b, const char* op);
void check_same_dtype(const Tensor& a, const Tensor& b, const char* op);
void check_same_shape(const Tensor& a, const Tensor& b, const char* op);
void check_dim(const Tensor& t, int64_t dim, const char* op, const char* arg);
void check_floating(const Tensor& t, const char* op, const char* arg);

}  // namespace pmsdsen
