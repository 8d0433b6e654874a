// Bilinear resizing, PyTorch's upsample_bilinear2d.
#include "autograd/ops_resize.h"

#include <cmath>

#include "autograd/op_impl.h"
#include "core/resize_math.h"

namespace pmsdsen::ops {

namespace {

struct ResizeGeometry {
  int64_t planes;
  int H, W, OH, OW;
  bool align_corners;
  double scale_h, scale_w;  // > 0: PyTorch's scale_factor path
  template <class T>
  T ratio_h() const {
    return hd::bilinear_ratio<T>(H, OH, align_corners, scale_h);
  }
  template <class T>
  T ratio_w() const {
    return hd::bilinear_ratio<T>(W, OW, align_corners, scale_w);
  }
};

}  // namespace

Tensor bilinear(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners, double scale_h,
                double scale_w) {
  check_defined(x, "bilinear", "x");
  check_floating(x, "bilinear", "x");
  PMSDSEN_CHECK(x.dim() == 4 && x.size(2) > 0 && x.size(3) > 0,
                "bilinear: x must be [N, C, H, W] with H, W > 0, got ", x.str());
  PMSDSEN_CHECK(out_h > 0 && out_w > 0, "bilinear: output size ", out_h, "x", out_w,
                " must be positive (x ", shape_str(x.shape()), ")");
  PMSDSEN_CHECK(scale_h >= 0.0 && scale_w >= 0.0, "bilinear: scale factors must not be negative, got ",
                scale_h, ", ", scale_w);
  const int64_t limit = int64_t(1) << 30;
  PMSDSEN_CHECK(x.size(2) * x.size(3) < limit && out_h * out_w < limit,
                "bilinear: planes too large: ", x.str(), " to ", out_h, "x", out_w);
  ResizeGeometry g;
  g.planes = x.size(0) * x.size(1);
  g.H = static_cast<int>(x.size(2));
  g.W = static_cast<int>(x.size(3));
  g.OH = static_cast<int>(out_h);
  g.OW = static_cast<int>(out_w);
  g.align_corners = align_corners;
  g.scale_h = scale_h;
  g.scale_w = scale_w;
  return on_backend(x, "bilinear", [&](auto b) {
    using B = decltype(b);
    using T = typename B::Scalar;
    Tensor y = Tensor::empty({x.size(0), x.size(1), out_h, out_w}, x.dtype(), x.device());
    B::bilinear_forward(x.data<T>(), y.data<T>(), g.planes, g.H, g.W, g.OH, g.OW, g.template ratio_h<T>(),
                        g.template ratio_w<T>(), g.align_corners);
    const Shape in_shape = x.shape();
    return record("bilinear", y, {x}, [g, in_shape](const Tensor& gy, const Node&) -> GradList {
      Tensor gx = Tensor::empty(in_shape, gy.dtype(), gy.device());
      B::bilinear_backward(gy.data<T>(), gx.data<T>(), g.planes, g.H, g.W, g.OH, g.OW, g.template ratio_h<T>(),
                           g.template ratio_w<T>(), g.align_corners);
      return {gx};
    });
  });
}

Tensor bilinear_scale(const Tensor& x, double scale, bool align_corners) {
  check_defined(x, "bilinear_scale", "x");
  PMSDSEN_CHECK(x.dim() == 4, "bilinear_scale: x must be [N, C, H, W], got ", x.str());
  PMSDSEN_CHECK(scale > 0.0 && std::isfinite(scale), "bilinear_scale: scale must be positive, got ", scale);
  const int64_t out_h = static_cast<int64_t>(std::floor(static_cast<double>(x.size(2)) * scale));
  const int64_t out_w = static_cast<int64_t>(std::floor(static_cast<double>(x.size(3)) * scale));
  PMSDSEN_CHECK(out_h > 0 && out_w > 0, "bilinear_scale: scale ", scale, " of x ", shape_str(x.shape()),
                " gives an empty output ", out_h, "x", out_w);
  return bilinear(x, out_h, out_w, align_corners, scale, scale);
}

}  // namespace pmsdsen::ops
