#include "autograd/ops_pool.h"

#include "autograd/op_impl.h"

namespace pmsdsen::ops {

namespace {

struct PoolGeometry {
  int64_t planes;
  int H, W, OH, OW, k, s, p;
};

// PyTorch's checks and output size (pooling_output_shape, floor mode, dilation 1).
PoolGeometry pool_geometry(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding,
                           const char* op) {
  check_defined(x, op, "x");
  check_floating(x, op, "x");
  PMSDSEN_CHECK(x.dim() == 4, op, ": x must be [N, C, H, W], got ", x.str());
  PMSDSEN_CHECK(kernel > 0 && stride > 0 && padding >= 0, op, ": kernel ", kernel, ", stride ",
                stride, ", padding ", padding, " must be positive (padding non-negative)");
  PMSDSEN_CHECK(padding <= kernel / 2, op, ": padding ", padding,
                " must be at most half the kernel size ", kernel);
  const int64_t H = x.size(2), W = x.size(3);
  const int64_t oh_num = H + 2 * padding - kernel, ow_num = W + 2 * padding - kernel;
  PMSDSEN_CHECK(oh_num >= 0 && ow_num >= 0, op, ": kernel ", kernel, " with padding ", padding,
                " does not fit the input ", shape_str(x.shape()), " (output size would be below 1)");
  PMSDSEN_CHECK(H < (1 << 30) && W < (1 << 30) && H * W < (int64_t(1) << 31), op,
                ": planes too large in ", x.str());
  PoolGeometry g;
  g.planes = x.size(0) * x.size(1);
  g.H = static_cast<int>(H);
  g.W = static_cast<int>(W);
  g.OH = static_cast<int>(oh_num / stride + 1);
  g.OW = static_cast<int>(ow_num / stride + 1);
  g.k = static_cast<int>(kernel);
  g.s = static_cast<int>(stride);
  g.p = static_cast<int>(padding);
  return g;
}

}  // namespace

Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  const PoolGeometry g = pool_geometry(x, kernel, stride, padding, "avg_pool2d");
  return on_backend(x, "avg_pool2d", [&](auto b) {
    using B = decltype(b);
    using T = typename B::Scalar;
    Tensor y = Tensor::empty({x.size(0), x.size(1), g.OH, g.OW}, x.dtype(), x.device());
    B::avg_pool2d_forward(x.data<T>(), y.data<T>(), g.planes, g.H, g.W, g.OH, g.OW, g.k, g.s, g.p);
    const Shape in_shape = x.shape();
    return record("avg_pool2d", y, {x}, [g, in_shape](const Tensor& gy, const Node&) -> GradList {
      Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
      B::avg_pool2d_backward(gy.data<T>(), gx.data<T>(), g.planes, g.H, g.W, g.OH, g.OW, g.k, g.s, g.p);
      return {gx};
    });
  });
}

Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  const PoolGeometry g = pool_geometry(x, kernel, stride, padding, "max_pool2d");
  return on_backend(x, "max_pool2d", [&](auto b) {
    using B = decltype(b);
    using T = typename B::Scalar;
    Tensor y = Tensor::empty({x.size(0), x.size(1), g.OH, g.OW}, x.dtype(), x.device());
    Tensor index = Tensor::empty(y.shape(), DType::I32, x.device());  // argmax within each plane
    B::max_pool2d_forward(x.data<T>(), y.data<T>(), index.data<int32_t>(), g.planes, g.H, g.W, g.OH, g.OW, g.k,
                          g.s, g.p);
    const Shape in_shape = x.shape();
    return record("max_pool2d", y, {x}, [g, in_shape, index](const Tensor& gy, const Node&) -> GradList {
      Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
      B::max_pool2d_backward(gy.data<T>(), index.data<int32_t>(), gx.data<T>(), g.planes, g.H, g.W, g.OH, g.OW,
                             g.k, g.s, g.p);
      return {gx};
    });
  });
}

Tensor global_avg_pool(const Tensor& x) {
  check_defined(x, "global_avg_pool", "x");
  check_floating(x, "global_avg_pool", "x");
  PMSDSEN_CHECK(x.dim() == 4 && x.size(2) * x.size(3) > 0,
                "global_avg_pool: x must be [N, C, H, W] with H, W > 0, got ", x.str());
  const int64_t planes = x.size(0) * x.size(1), S = x.size(2) * x.size(3);
  return on_backend(x, "global_avg_pool", [&](auto b) {
    using B = decltype(b);
    using T = typename B::Scalar;
    Tensor y = Tensor::empty({x.size(0), x.size(1), 1, 1}, x.dtype(), x.device());
    B::global_avg_pool_forward(x.data<T>(), y.data<T>(), planes, S);
    const Shape in_shape = x.shape();
    return record("global_avg_pool", y, {x}, [in_shape, planes, S](const Tensor& gy, const Node&) -> GradList {
      Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
      B::global_avg_pool_backward(gy.data<T>(), gx.data<T>(), planes, S);
      return {gx};
    });
  });
}

}  // namespace pmsdsen::ops
