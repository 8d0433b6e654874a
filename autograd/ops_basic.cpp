#include "autograd/ops_basic.h"

#include "autograd/op_impl.h"

namespace pmsdsen::ops {

namespace {

void check_binary(const Tensor& a, const Tensor& b, const char* op) {
  check_defined(a, op, "a");
  check_defined(b, op, "b");
  check_same_device(a, b, op);
  check_same_dtype(a, b, op);
  check_same_shape(a, b, op);
  check_floating(a, op, "a");
}

// The kernels the ops below share between their passes, on backend B.

// y = alpha * a + beta * b (b may be undefined when beta == 0)
template <class B>
Tensor axpby(double alpha, const Tensor& a, double beta, const Tensor& b) {
  using T = typename B::Scalar;
  Tensor y = Tensor::empty_like(a);
  B::axpby(T(alpha), a.data<T>(), T(beta), autograd::data_or_null<T>(b), y.data<T>(), a.numel());
  return y;
}

template <class B>
Tensor mul_kernel(const Tensor& a, const Tensor& b) {
  using T = typename B::Scalar;
  Tensor y = Tensor::empty_like(a);
  B::mul(a.data<T>(), b.data<T>(), y.data<T>(), a.numel());
  return y;
}

template <class B>
Tensor mul_channel_kernel(const Tensor& x, const Tensor& s) {
  using T = typename B::Scalar;
  Tensor y = Tensor::empty_like(x);
  const int64_t planes = s.numel();
  B::mul_channel(x.data<T>(), s.data<T>(), y.data<T>(), planes, planes ? x.numel() / planes : 0);
  return y;
}

// gs (shaped like s) = per-plane sums of g * x.
template <class B>
Tensor dot_planes_kernel(const Tensor& g, const Tensor& x, const Shape& s_shape) {
  using T = typename B::Scalar;
  Tensor gs = Tensor::empty(s_shape, x.dtype(), x.device());
  const int64_t planes = gs.numel();
  B::dot_planes(g.data<T>(), x.data<T>(), gs.data<T>(), planes, planes ? x.numel() / planes : 0);
  return gs;
}

// C = op(A) op(B), row-major, C already shaped.
template <class B>
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const Tensor& a, const Tensor& b, Tensor& c) {
  using T = typename B::Scalar;
  B::gemm(ta, tb, M, N, K, T(1), a.data<T>(), ta ? M : K, b.data<T>(), tb ? K : N, T(0), c.data<T>(), N);
}

// Channels [src_first, + channels) of src to [dst_first, + channels) of dst, any dtype.
void copy_channels(const Tensor& src, int64_t src_first, Tensor& dst, int64_t dst_first, int64_t channels) {
  const int64_t batch = src.size(0);
  const int64_t plane = src.dim() > 2 ? src.numel() / (batch * src.size(1)) : 1;
  const int64_t plane_bytes = plane * static_cast<int64_t>(dtype_size(src.dtype()));
  on_device(src, "copy_channels", [&](auto d) {
    decltype(d)::copy_channels(src.raw_data(), src.size(1), src_first, dst.raw_data(), dst.size(1), dst_first,
                               channels, batch, plane_bytes);
  });
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  check_binary(a, b, "add");
  return on_backend(a, "add", [&](auto bk) {
    using B = decltype(bk);
    return record("add", axpby<B>(1.0, a, 1.0, b), {a, b},
                  [](const Tensor& g, const Node&) -> GradList { return {g, g}; });
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  check_binary(a, b, "sub");
  return on_backend(a, "sub", [&](auto bk) {
    using B = decltype(bk);
    return record("sub", axpby<B>(1.0, a, -1.0, b), {a, b}, [](const Tensor& g, const Node& node) -> GradList {
      return {g, node.needs_grad(1) ? axpby<B>(-1.0, g, 0.0, Tensor()) : Tensor()};
    });
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  check_binary(a, b, "mul");
  return on_backend(a, "mul", [&](auto bk) {
    using B = decltype(bk);
    Tensor sa = a.detach(), sb = b.detach();
    return record("mul", mul_kernel<B>(a, b), {a, b}, [sa, sb](const Tensor& g, const Node& node) -> GradList {
      return {node.needs_grad(0) ? mul_kernel<B>(g, sb) : Tensor(), node.needs_grad(1) ? mul_kernel<B>(g, sa) : Tensor()};
    });
  });
}

Tensor scale(const Tensor& x, double factor) {
  check_defined(x, "scale", "x");
  check_floating(x, "scale", "x");
  return on_backend(x, "scale", [&](auto bk) {
    using B = decltype(bk);
    return record("scale", axpby<B>(factor, x, 0.0, Tensor()), {x}, [factor](const Tensor& g, const Node&) -> GradList {
      return {axpby<B>(factor, g, 0.0, Tensor())};
    });
  });
}

Tensor mul_channel(const Tensor& x, const Tensor& s) {
  check_defined(x, "mul_channel", "x");
  check_defined(s, "mul_channel", "s");
  check_same_device(x, s, "mul_channel");
  check_same_dtype(x, s, "mul_channel");
  check_floating(x, "mul_channel", "x");
  PMSDSEN_CHECK(x.dim() >= 2 && s.dim() == x.dim() && s.size(0) == x.size(0) &&
                    s.size(1) == x.size(1) && s.numel() == x.size(0) * x.size(1),
                "mul_channel: scale must be [N, C, 1, ...] for x ", shape_str(x.shape()), ", got ",
                shape_str(s.shape()));
  return on_backend(x, "mul_channel", [&](auto bk) {
    using B = decltype(bk);
    Tensor sx = x.detach(), ss = s.detach();
    return record("mul_channel", mul_channel_kernel<B>(x, s), {x, s},
                  [sx, ss](const Tensor& g, const Node& node) -> GradList {
                    return {node.needs_grad(0) ? mul_channel_kernel<B>(g, ss) : Tensor(),
                            node.needs_grad(1) ? dot_planes_kernel<B>(g, sx, ss.shape()) : Tensor()};
                  });
  });
}

Tensor sum(const Tensor& x) {
  check_defined(x, "sum", "x");
  check_floating(x, "sum", "x");
  return on_backend(x, "sum", [&](auto bk) {
    using B = decltype(bk);
    using T = typename B::Scalar;
    Tensor y = Tensor::empty({}, x.dtype(), x.device());
    B::sum(x.data<T>(), y.data<T>(), x.numel());
    const Shape shape = x.shape();
    return record("sum", y, {x}, [shape](const Tensor& g, const Node&) -> GradList {
      Tensor gx = Tensor::empty(shape, g.dtype(), g.device());
      B::broadcast_scalar(g.data<T>(), T(1), gx.data<T>(), gx.numel());
      return {gx};
    });
  });
}

Tensor mean(const Tensor& x) {
  check_defined(x, "mean", "x");
  PMSDSEN_CHECK(x.numel() > 0, "mean: empty tensor ", x.str());
  return scale(sum(x), 1.0 / static_cast<double>(x.numel()));
}

Tensor concat_channels(const std::vector<Tensor>& xs) {
  PMSDSEN_CHECK(!xs.empty(), "concat_channels: no tensors given");
  const Tensor& first = xs[0];
  check_defined(first, "concat_channels", "xs[0]");
  PMSDSEN_CHECK(first.dim() >= 2, "concat_channels: tensors need at least 2 dims, got ", first.str());
  Shape out_shape = first.shape();
  int64_t channels = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& t = xs[i];
    check_defined(t, "concat_channels", "xs[i]");
    check_same_device(first, t, "concat_channels");
    check_same_dtype(first, t, "concat_channels");
    Shape a = first.shape(), b = t.shape();
    bool ok = a.size() == b.size();
    for (size_t d = 0; ok && d < a.size(); ++d) ok = d == 1 || a[d] == b[d];
    PMSDSEN_CHECK(ok, "concat_channels: tensor ", i, " has shape ", shape_str(b),
                  ", incompatible with ", shape_str(a), " (only dim 1 may differ)");
    channels += t.size(1);
  }
  out_shape[1] = channels;
  Tensor y = Tensor::empty(out_shape, first.dtype(), first.device());
  std::vector<int64_t> sizes;
  int64_t offset = 0;
  for (const Tensor& t : xs) {
    copy_channels(t, 0, y, offset, t.size(1));
    offset += t.size(1);
    sizes.push_back(t.size(1));
  }
  return record("concat_channels", y, xs, [sizes](const Tensor& g, const Node& node) -> GradList {
    GradList grads(sizes.size());
    int64_t start = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (node.needs_grad(i)) {
        Shape s = g.shape();
        s[1] = sizes[i];
        grads[i] = Tensor::empty(s, g.dtype(), g.device());
        copy_channels(g, start, grads[i], 0, sizes[i]);
      }
      start += sizes[i];
    }
    return grads;
  });
}

Tensor slice_channels(const Tensor& x, int64_t start, int64_t length) {
  check_defined(x, "slice_channels", "x");
  PMSDSEN_CHECK(x.dim() >= 2 && start >= 0 && length >= 0 && start + length <= x.size(1),
                "slice_channels: channels [", start, ", ", start + length, ") out of range for ",
                x.str());
  Shape s = x.shape();
  s[1] = length;
  Tensor y = Tensor::empty(s, x.dtype(), x.device());
  copy_channels(x, start, y, 0, length);
  const Shape in_shape = x.shape();
  return record("slice_channels", y, {x}, [in_shape, start, length](const Tensor& g, const Node&) -> GradList {
    Tensor gx = Tensor::zeros(in_shape, g.dtype(), g.device());
    copy_channels(g, 0, gx, start, length);
    return {gx};
  });
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  check_defined(x, "reshape", "x");
  const Shape in_shape = x.shape();
  return record("reshape", x.view(shape), {x}, [in_shape](const Tensor& g, const Node&) -> GradList {
    return {g.view(in_shape)};
  });
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_defined(a, "matmul", "a");
  check_defined(b, "matmul", "b");
  check_same_device(a, b, "matmul");
  check_same_dtype(a, b, "matmul");
  check_floating(a, "matmul", "a");
  PMSDSEN_CHECK(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(0), "matmul: cannot multiply ",
                shape_str(a.shape()), " by ", shape_str(b.shape()));
  const int64_t M = a.size(0), K = a.size(1), N = b.size(1);
  return on_backend(a, "matmul", [&](auto bk) {
    using B = decltype(bk);
    Tensor y = Tensor::empty({M, N}, a.dtype(), a.device());
    gemm<B>(false, false, M, N, K, a, b, y);
    Tensor sa = a.detach(), sb = b.detach();
    return record("matmul", y, {a, b}, [sa, sb, M, N, K](const Tensor& g, const Node& node) -> GradList {
      Tensor ga, gb;
      if (node.needs_grad(0)) {  // ga[M,K] = g[M,N] b^T
        ga = Tensor::empty({M, K}, g.dtype(), g.device());
        gemm<B>(false, true, M, K, N, g, sb, ga);
      }
      if (node.needs_grad(1)) {  // gb[K,N] = a^T g
        gb = Tensor::empty({K, N}, g.dtype(), g.device());
        gemm<B>(true, false, K, N, M, sa, g, gb);
      }
      return {ga, gb};
    });
  });
}

}  // namespace pmsdsen::ops
