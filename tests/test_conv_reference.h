#pragma once
// Direct-loop references for the convolution tests: PyTorch's definitions, written out
// index by index in double, with gradients accumulated by the adjoint of the same loops.
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops_conv.h"
#include "core/conv_math.h"
#include "tests/test_util.h"

namespace pmsdsen::test {

struct ConvResult {
  Tensor y, gx, gw, gb;  // gb undefined without bias
};

struct ConvRefCase {
  Shape x, w;
  bool bias = true;
  int64_t stride = 1, padding = 0, dilation = 1, groups = 1, output_padding = 0;
  bool transposed = false;
};

// y and the gradients of sum(y * gy) with respect to x, w and b.
inline ConvResult reference_conv(const ConvRefCase& c, const Tensor& x, const Tensor& w,
                                 const Tensor& b, const Tensor& gy_t) {
  const std::vector<double> xv = values(x), wv = values(w), gy = values(gy_t);
  const std::vector<double> bv = b.defined() ? values(b) : std::vector<double>();
  const int64_t N = c.x[0], Cin = c.x[1], H = c.x[2], W = c.x[3];
  const int64_t kh = c.w[2], kw = c.w[3], s = c.stride, p = c.padding, d = c.dilation;
  int64_t Cout, Ho, Wo;
  if (c.transposed) {
    Cout = c.w[1];
    Ho = (H - 1) * s - 2 * p + kh + c.output_padding;
    Wo = (W - 1) * s - 2 * p + kw + c.output_padding;
  } else {
    Cout = c.w[0];
    Ho = conv_out_size(H, kh, s, p, d);
    Wo = conv_out_size(W, kw, s, p, d);
  }
  std::vector<double> y(static_cast<size_t>(N * Cout * Ho * Wo), 0.0), gx(xv.size(), 0.0),
      gw(wv.size(), 0.0), gb(static_cast<size_t>(Cout), 0.0);
  auto visit = [&](size_t xi, size_t wi, size_t yi) {
    y[yi] += xv[xi] * wv[wi];
    gx[xi] += wv[wi] * gy[yi];
    gw[wi] += xv[xi] * gy[yi];
  };
  if (c.transposed) {  // scatter: x[n, ci, iy, ix] * w[ci, co, ky, kx] -> y[n, co, iy*s-p+ky, ...]
    for (int64_t n = 0; n < N; ++n)
      for (int64_t ci = 0; ci < Cin; ++ci)
        for (int64_t iy = 0; iy < H; ++iy)
          for (int64_t ix = 0; ix < W; ++ix)
            for (int64_t co = 0; co < Cout; ++co)
              for (int64_t ky = 0; ky < kh; ++ky)
                for (int64_t kx = 0; kx < kw; ++kx) {
                  const int64_t oy = iy * s - p + ky, ox = ix * s - p + kx;
                  if (oy < 0 || oy >= Ho || ox < 0 || ox >= Wo) continue;
                  visit(((n * Cin + ci) * H + iy) * W + ix, ((ci * Cout + co) * kh + ky) * kw + kx,
                        ((n * Cout + co) * Ho + oy) * Wo + ox);
                }
  } else {  // gather: y[n, co, oy, ox] += w[co, ci, ky, kx] * x[n, g*cin_g + ci, oy*s-p+ky*d, ...]
    const int64_t cin_g = Cin / c.groups, cout_g = Cout / c.groups;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t co = 0; co < Cout; ++co)
        for (int64_t oy = 0; oy < Ho; ++oy)
          for (int64_t ox = 0; ox < Wo; ++ox)
            for (int64_t ci = 0; ci < cin_g; ++ci)
              for (int64_t ky = 0; ky < kh; ++ky)
                for (int64_t kx = 0; kx < kw; ++kx) {
                  const int64_t iy = oy * s - p + ky * d, ix = ox * s - p + kx * d;
                  if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                  const int64_t cx = (co / cout_g) * cin_g + ci;
                  visit(((n * Cin + cx) * H + iy) * W + ix, ((co * cin_g + ci) * kh + ky) * kw + kx,
                        ((n * Cout + co) * Ho + oy) * Wo + ox);
                }
  }
  for (int64_t n = 0; n < N; ++n)
    for (int64_t co = 0; co < Cout; ++co)
      for (int64_t i = 0; i < Ho * Wo; ++i) {
        const size_t yi = static_cast<size_t>((n * Cout + co) * Ho * Wo + i);
        if (c.bias) y[yi] += bv[static_cast<size_t>(co)];
        gb[static_cast<size_t>(co)] += gy[yi];
      }
  ConvResult r;
  r.y = Tensor::from_vector(y, {N, Cout, Ho, Wo});
  r.gx = Tensor::from_vector(gx, c.x);
  r.gw = Tensor::from_vector(gw, c.w);
  if (c.bias) r.gb = Tensor::from_vector(gb, {Cout});
  return r;
}

// The op under test (ops::conv2d or ops::conv_transpose2d) on `device` in `dtype`.
inline ConvResult run_conv(const ConvRefCase& c, const Tensor& x64, const Tensor& w64,
                           const Tensor& b64, const Tensor& gy64, DType dtype, Device device) {
  auto prep = [&](const Tensor& t) {
    if (!t.defined()) return Tensor();
    Tensor u = t.to(dtype).to(device);
    if (u.same(t)) u = u.clone();
    u.set_requires_grad(true);
    return u;
  };
  Tensor x = prep(x64), w = prep(w64), b = c.bias ? prep(b64) : Tensor();
  Tensor y;
  if (c.transposed) {
    ops::ConvTranspose2dOptions o;
    o.stride = c.stride;
    o.padding = c.padding;
    o.output_padding = c.output_padding;
    y = ops::conv_transpose2d(x, w, b, o);
  } else {
    ops::Conv2dOptions o;
    o.stride = c.stride;
    o.padding = c.padding;
    o.dilation = c.dilation;
    o.groups = c.groups;
    y = ops::conv2d(x, w, b, o);
  }
  backward(y, gy64.to(dtype).to(device));
  return {y, x.grad(), w.grad(), c.bias ? b.grad() : Tensor()};
}

// Random x, w, b, gy (float64, CPU) for a case.
struct ConvInputs {
  Tensor x, w, b, gy;
};
inline ConvInputs random_conv_inputs(const ConvRefCase& c, Generator& gen) {
  ConvInputs in;
  in.x = random_tensor(c.x, gen);
  in.w = random_tensor(c.w, gen);
  const int64_t cout = c.transposed ? c.w[1] : c.w[0];
  in.b = random_tensor({cout}, gen);
  const int64_t H = c.x[2], W = c.x[3];
  const int64_t Ho = c.transposed ? (H - 1) * c.stride - 2 * c.padding + c.w[2] + c.output_padding
                                  : conv_out_size(H, c.w[2], c.stride, c.padding, c.dilation);
  const int64_t Wo = c.transposed ? (W - 1) * c.stride - 2 * c.padding + c.w[3] + c.output_padding
                                  : conv_out_size(W, c.w[3], c.stride, c.padding, c.dilation);
  in.gy = random_tensor({c.x[0], cout, Ho, Wo}, gen);
  return in;
}

// A convolution case: input shape x, weight shape w, stride, padding, dilation, groups.
inline ConvRefCase conv_case(Shape x, Shape w, int64_t s, int64_t p, int64_t d = 1, int64_t g = 1, bool bias = true) {
  ConvRefCase c;
  c.x = x;
  c.w = w;
  c.stride = s;
  c.padding = p;
  c.dilation = d;
  c.groups = g;
  c.bias = bias;
  return c;
}

// A transposed-convolution case with output padding op.
inline ConvRefCase transposed_case(Shape x, Shape w, int64_t s, int64_t p, int64_t op, bool bias = true) {
  ConvRefCase c = conv_case(x, w, s, p, 1, 1, bias);
  c.output_padding = op;
  c.transposed = true;
  return c;
}

inline std::string describe(const ConvRefCase& c) {
  return str(c.transposed ? "conv_transpose2d" : "conv2d", " x", shape_str(c.x), " w",
             shape_str(c.w), " s", c.stride, " p", c.padding, " d", c.dilation, " g", c.groups,
             " op", c.output_padding, c.bias ? " bias" : "");
}

}  // namespace pmsdsen::test
