// conv2d, conv_transpose2d and ECA's channel convolution. Three kernels serve all of
// them, each on both backends (core/cpu/conv.h, cuda/conv.h): a convolution's forward,
// its input gradient and its weight gradient. A transposed convolution is the input
// gradient of the convolution with the same weight, and its gradients are that
// convolution's forward and weight gradient.
#include "autograd/ops_conv.h"

#include "autograd/op_impl.h"

namespace pmsdsen::ops {

namespace {

// ---- the three kernels and the bias helpers, on backend B ---------------------------

// y [batch, out_channels, out_h, out_w] = conv(x, w) + b (b may be undefined).
template <class B>
Tensor conv_forward(const ConvShape& s, const Tensor& x, const Tensor& w, const Tensor& b) {
  using T = typename B::Scalar;
  Tensor y = Tensor::empty({s.batch, s.out_channels, s.out_h, s.out_w}, x.dtype(), x.device());
  B::conv2d_forward(s, x.data<T>(), w.data<T>(), data_or_null<T>(b), y.data<T>());
  return y;
}

// The gradient of sum(conv(x, w) * gy) with respect to x: [batch, in_channels, in_h, in_w].
template <class B>
Tensor conv_input_grad(const ConvShape& s, const Tensor& gy, const Tensor& w) {
  using T = typename B::Scalar;
  Tensor gx = Tensor::empty({s.batch, s.in_channels, s.in_h, s.in_w}, gy.dtype(), gy.device());
  B::conv2d_backward_input(s, gy.data<T>(), w.data<T>(), gx.data<T>());
  return gx;
}

// ... and with respect to w (summed over the batch), shaped `w_shape`.
template <class B>
Tensor conv_weight_grad(const ConvShape& s, const Tensor& gy, const Tensor& x, const Shape& w_shape) {
  using T = typename B::Scalar;
  Tensor gw = Tensor::empty(w_shape, gy.dtype(), gy.device());
  B::conv2d_backward_weight(s, gy.data<T>(), x.data<T>(), gw.data<T>());
  return gw;
}

template <class B>
void add_bias(Tensor& y, const Tensor& b) {
  using T = typename B::Scalar;
  B::conv_add_bias(y.data<T>(), b.data<T>(), y.size(0), y.size(1), y.size(2) * y.size(3));
}

template <class B>
Tensor bias_grad(const Tensor& gy) {
  using T = typename B::Scalar;
  Tensor gb = Tensor::empty({gy.size(1)}, gy.dtype(), gy.device());
  B::conv_bias_backward(gy.data<T>(), gy.size(0), gy.size(1), gy.size(2) * gy.size(3), gb.data<T>());
  return gb;
}

enum class ChannelConv { Forward, InputGrad, WeightGrad };

// ECA's channel convolution over x/gy `a` [N, C, 1, 1] with `b` the weight (Forward,
// InputGrad) or x (WeightGrad).
template <class B>
Tensor channel_conv_kernel(ChannelConv kind, const Tensor& a, const Tensor& b, const Shape& shape, int64_t k) {
  using T = typename B::Scalar;
  const int64_t batch = a.size(0), channels = a.size(1);
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  const T *pa = a.data<T>(), *pb = b.data<T>();
  T* po = out.data<T>();
  switch (kind) {
    case ChannelConv::Forward: B::channel_conv1d_forward(pa, pb, po, batch, channels, k); break;
    case ChannelConv::InputGrad: B::channel_conv1d_backward_input(pa, pb, po, batch, channels, k); break;
    case ChannelConv::WeightGrad: B::channel_conv1d_backward_weight(pa, pb, po, batch, channels, k); break;
  }
  return out;
}

// ---- argument checks -------------------------------------------------------------------

void check_operands(const char* op, const Tensor& x, const Tensor& w, const Tensor& b) {
  check_defined(x, op, "x");
  check_defined(w, op, "weight");
  check_floating(x, op, "x");
  check_same_device(x, w, op);
  check_same_dtype(x, w, op);
  check_dim(x, 4, op, "x");
  check_dim(w, 4, op, "weight");
  if (b.defined()) {
    check_same_device(x, b, op);
    check_same_dtype(x, b, op);
  }
}

void check_bias(const char* op, const Tensor& b, int64_t channels) {
  if (!b.defined()) return;
  PMSDSEN_CHECK(b.dim() == 1 && b.size(0) == channels, op, ": bias must be [", channels,
                "], got ", shape_str(b.shape()));
}

// The checked geometry of conv2d(x, weight, bias) (also conv2d_epilogue's); x_shape,
// when given, replaces x's (a channel window of x).
ConvShape conv2d_shape(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias,
                       const Conv2dOptions& o, const Shape* x_shape = nullptr) {
  check_operands(op, x, weight, bias);
  const Shape& xs = x_shape ? *x_shape : x.shape();
  PMSDSEN_CHECK(o.stride >= 1 && o.dilation >= 1 && o.padding >= 0 && o.groups >= 1, op,
                ": need stride >= 1, dilation >= 1, padding >= 0, groups >= 1; got stride ",
                o.stride, ", padding ", o.padding, ", dilation ", o.dilation, ", groups ", o.groups);
  ConvShape s;
  s.batch = xs[0];
  s.in_channels = xs[1];
  s.in_h = xs[2];
  s.in_w = xs[3];
  s.out_channels = weight.size(0);
  s.kernel_h = weight.size(2);
  s.kernel_w = weight.size(3);
  s.stride = o.stride;
  s.padding = o.padding;
  s.dilation = o.dilation;
  s.groups = o.groups;
  PMSDSEN_CHECK(s.in_channels % s.groups == 0 && s.out_channels % s.groups == 0 &&
                    weight.size(1) * s.groups == s.in_channels && s.kernel_h >= 1 && s.kernel_w >= 1,
                op, ": weight ", shape_str(weight.shape()), " does not fit x ", shape_str(xs),
                " with groups ", s.groups, " (expected [Cout, ", s.in_channels, "/", s.groups,
                ", kh, kw] with Cout divisible by groups)");
  check_bias(op, bias, s.out_channels);
  s.out_h = conv_out_size(s.in_h, s.kernel_h, s.stride, s.padding, s.dilation);
  s.out_w = conv_out_size(s.in_w, s.kernel_w, s.stride, s.padding, s.dilation);
  PMSDSEN_CHECK(s.out_h >= 1 && s.out_w >= 1, op, ": x ", shape_str(xs),
                " is too small for a ", s.kernel_h, "x", s.kernel_w, " kernel with padding ",
                s.padding, " and dilation ", s.dilation);
  return s;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& o) {
  const char* op = "conv2d";
  const ConvShape s = conv2d_shape(op, x, weight, bias, o);
  return on_backend(x, op, [&](auto b) {
    using B = decltype(b);
    Tensor y = conv_forward<B>(s, x, weight, bias);
    Tensor sx = x.detach(), sw = weight.detach();
    return record(op, y, {x, weight, bias}, [s, sx, sw](const Tensor& g, const Node& node) -> GradList {
      return {node.needs_grad(0) ? conv_input_grad<B>(s, g, sw) : Tensor(),
              node.needs_grad(1) ? conv_weight_grad<B>(s, g, sx, sw.shape()) : Tensor(),
              node.needs_grad(2) ? bias_grad<B>(g) : Tensor()};
    });
  });
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        const ConvTranspose2dOptions& o) {
  const char* op = "conv_transpose2d";
  check_operands(op, x, weight, bias);
  PMSDSEN_CHECK(o.stride >= 1 && o.padding >= 0 && o.output_padding >= 0 &&
                    o.output_padding < o.stride,
                op, ": need stride >= 1, padding >= 0 and 0 <= output_padding < stride; got stride ",
                o.stride, ", padding ", o.padding, ", output_padding ", o.output_padding);
  PMSDSEN_CHECK(weight.size(0) == x.size(1) && weight.size(2) >= 1 && weight.size(3) >= 1, op,
                ": weight ", shape_str(weight.shape()), " does not fit x ", shape_str(x.shape()),
                " (expected [", x.size(1), ", Cout, kh, kw])");
  // The convolution whose input gradient this is: its input is our output.
  ConvShape s;
  s.batch = x.size(0);
  s.out_channels = x.size(1);
  s.out_h = x.size(2);
  s.out_w = x.size(3);
  s.in_channels = weight.size(1);
  s.kernel_h = weight.size(2);
  s.kernel_w = weight.size(3);
  s.stride = o.stride;
  s.padding = o.padding;
  s.in_h = (s.out_h - 1) * s.stride - 2 * s.padding + s.kernel_h + o.output_padding;
  s.in_w = (s.out_w - 1) * s.stride - 2 * s.padding + s.kernel_w + o.output_padding;
  check_bias(op, bias, s.in_channels);
  PMSDSEN_CHECK(s.in_h >= 1 && s.in_w >= 1, op, ": output size ", s.in_h, "x", s.in_w,
                " for x ", shape_str(x.shape()), " and weight ", shape_str(weight.shape()),
                " is not positive");

  return on_backend(x, op, [&](auto b) {
    using B = decltype(b);
    Tensor y = conv_input_grad<B>(s, x, weight);
    if (bias.defined()) add_bias<B>(y, bias);
    Tensor sx = x.detach(), sw = weight.detach();
    return record(op, y, {x, weight, bias}, [s, sx, sw](const Tensor& g, const Node& node) -> GradList {
      return {node.needs_grad(0) ? conv_forward<B>(s, g, sw, Tensor()) : Tensor(),
              node.needs_grad(1) ? conv_weight_grad<B>(s, sx, g, sw.shape()) : Tensor(),
              node.needs_grad(2) ? bias_grad<B>(g) : Tensor()};
    });
  });
}

namespace {

void check_channel_conv(const char* op, const Tensor& x, const Tensor& weight) {
  check_defined(x, op, "x");
  check_defined(weight, op, "weight");
  check_floating(x, op, "x");
  check_same_device(x, weight, op);
  check_same_dtype(x, weight, op);
  PMSDSEN_CHECK(x.dim() == 4 && x.size(2) == 1 && x.size(3) == 1, op,
                ": x must be [N, C, 1, 1], got ", shape_str(x.shape()));
  PMSDSEN_CHECK(weight.dim() == 3 && weight.size(0) == 1 && weight.size(1) == 1 &&
                    weight.size(2) % 2 == 1,
                op, ": weight must be [1, 1, k] with k odd, got ", shape_str(weight.shape()));
}

}  // namespace

Tensor eca_scale(const Tensor& x, const Tensor& weight) {
  const char* op = "eca_scale";
  check_channel_conv(op, x, weight);
  check_inference_only(op, {&x, &weight});
  return on_backend(x, op, [&](auto b) {
    using B = decltype(b);
    using T = typename B::Scalar;
    Tensor y = Tensor::empty_like(x);
    B::channel_conv1d_sigmoid_forward(x.data<T>(), weight.data<T>(), y.data<T>(), x.size(0), x.size(1),
                                      weight.size(2));
    return y;
  });
}

Tensor channel_conv1d(const Tensor& x, const Tensor& weight) {
  const char* op = "channel_conv1d";
  check_channel_conv(op, x, weight);
  const int64_t k = weight.size(2);
  return on_backend(x, op, [&](auto b) {
    using B = decltype(b);
    Tensor y = channel_conv_kernel<B>(ChannelConv::Forward, x, weight, x.shape(), k);
    Tensor sx = x.detach(), sw = weight.detach();
    return record(op, y, {x, weight}, [k, sx, sw](const Tensor& g, const Node& node) -> GradList {
      return {node.needs_grad(0) ? channel_conv_kernel<B>(ChannelConv::InputGrad, g, sw, sx.shape(), k) : Tensor(),
              node.needs_grad(1) ? channel_conv_kernel<B>(ChannelConv::WeightGrad, g, sx, sw.shape(), k) : Tensor()};
    });
  });
}

Tensor conv2d_epilogue(const Tensor& x, const Tensor& weight, const Conv2dOptions& o, const EpilogueSpec& e) {
  const char* op = "conv2d_epilogue";
  const ConvShape s = conv2d_shape(op, x, weight, Tensor(), o);
  check_inference_only(op, {&x, &weight, &e.scale, &e.residual, &e.residual_scale, &e.mul, &e.add, &e.slope});
  return on_backend(x, op, [&](auto b) {
    using B = decltype(b);
    using T = typename B::Scalar;
    const Shape shape{s.batch, s.out_channels, s.out_h, s.out_w};
    const Epilogue<T> args = epilogue_args<T>(e, shape, x, op);
    Tensor y = Tensor::empty(shape, x.dtype(), x.device());
    B::conv2d_forward_epilogue(s, x.data<T>(), weight.data<T>(), y.data<T>(), args);
    return y;
  });
}

namespace {

// The window's shape [N, count, H, W], checked; count resolved.
Shape window_shape(ChannelWindow& w, const char* op, const char* what) {
  check_defined(w.tensor, op, what);
  check_dim(w.tensor, 4, op, what);
  const int64_t C = w.tensor.size(1);
  if (w.count < 0) w.count = C - w.first;
  PMSDSEN_CHECK(w.first >= 0 && w.count >= 0 && w.first + w.count <= C, op, ": ", what, " window of channels [",
                w.first, ", ", w.first + w.count, ") is outside ", w.tensor.str());
  return {w.tensor.size(0), w.count, w.tensor.size(2), w.tensor.size(3)};
}

bool overlap(const ChannelWindow& a, const ChannelWindow& b) {
  return a.tensor.defined() && b.tensor.defined() && a.tensor.raw_data() == b.tensor.raw_data() &&
         a.first < b.first + b.count && b.first < a.first + a.count;
}

}  // namespace

void conv2d_epilogue_into(const ChannelWindow& x_in, const ChannelWindow& addend_in, const Tensor& weight,
                          const Conv2dOptions& o, const EpilogueSpec& e, const ChannelWindow& dst_in) {
  const char* op = "conv2d_epilogue_into";
  ChannelWindow x = x_in, addend = addend_in, dst = dst_in;
  const Shape xs = window_shape(x, op, "x");
  const ConvShape s = conv2d_shape(op, x.tensor, weight, Tensor(), o, &xs);
  if (addend.tensor.defined()) {
    const Shape as = window_shape(addend, op, "addend");
    check_same_device(x.tensor, addend.tensor, op);
    check_same_dtype(x.tensor, addend.tensor, op);
    PMSDSEN_CHECK(as == xs, op, ": the addend window ", shape_str(as), " is not the input window's ", shape_str(xs));
  }
  const Shape ys = window_shape(dst, op, "dst");
  check_same_device(x.tensor, dst.tensor, op);
  check_same_dtype(x.tensor, dst.tensor, op);
  const Shape out{s.batch, s.out_channels, s.out_h, s.out_w};
  PMSDSEN_CHECK(ys == out, op, ": the dst window ", shape_str(ys), " is not the output's ", shape_str(out));
  PMSDSEN_CHECK(!overlap(dst, x) && !overlap(dst, addend), op, ": the dst window overlaps an input window");
  PMSDSEN_CHECK(!addend.scale.defined() && !dst.scale.defined(), op, ": only the input window takes a scale");
  if (x.scale.defined()) {
    check_same_device(x.tensor, x.scale, op);
    check_same_dtype(x.tensor, x.scale, op);
    PMSDSEN_CHECK(x.scale.numel() == s.batch * s.in_channels, op, ": the input window's scale must be [N, ",
                  s.in_channels, ", 1, 1], got ", x.scale.str());
  }
  PMSDSEN_CHECK(!e.residual.defined() && !e.scale.defined(), op,
                ": the epilogue's terms must be per channel (no residual, no per-sample scale)");
  check_inference_only(op, {&x.tensor, &x.scale, &addend.tensor, &weight, &dst.tensor, &e.mul, &e.add, &e.slope});
  on_backend(x.tensor, op, [&](auto b) {
    using B = decltype(b);
    using T = typename B::Scalar;
    ConvWindows<T> win;
    win.x_total = x.tensor.size(1);
    win.x_first = x.first;
    if (x.scale.defined()) win.x_scale = x.scale.data<T>();
    if (addend.tensor.defined()) {
      win.addend = addend.tensor.data<T>();
      win.a_total = addend.tensor.size(1);
      win.a_first = addend.first;
    }
    win.y_total = dst.tensor.size(1);
    win.y_first = dst.first;
    B::conv2d_window_forward_epilogue(s, win, x.tensor.data<T>(), weight.data<T>(), dst.tensor.data<T>(),
                                      epilogue_args<T>(e, out, x.tensor, op));
    return dst.tensor;
  });
}

}  // namespace pmsdsen::ops
