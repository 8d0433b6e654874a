// Convolution benches: depthwise 3x3 (dilations 1-4), pointwise, dense 3x3 and the
// transposed 3x3, each forward, input gradient and weight gradient, at PMSDSEN's shapes;
// and the inference forward of the pointwise ones with their epilogue (folded bias and
// GELU: on CUDA the hand-written cuda/conv_pointwise.cu, beside cuDNN's product + bias).
// Ours: the launchers of core/cpu/conv.h and cuda/conv.h; cuDNN: bench/cudnn_conv.cpp.
#include <string>

#include "bench/cudnn_baselines.h"
#include "bench/family_util.h"
#include "bench/net_shapes.h"

namespace pmsdsen::bench {
namespace {

// Set layout of every conv bench: 0 the x side (x or gx), 1 the w side (w or gw), 2 the
// y side (y or gy), 3 the bias (forward with bias only). In a transposed bench "x" is the
// transposed op's input and "y" its output.
constexpr int kX = 0, kW = 1, kY = 2, kB = 3;

struct ConvCase {
  std::string name, kernel, where;
  ConvShape s;  // library terms: for a transposed op, the convolution it is the input gradient of
  bool bias = false;
  bool transposed = false;
  bool input_grad = true;  // false where the input needs no gradient (the image)
};

Shape x_shape(const ConvCase& c) {
  const ConvShape& s = c.s;
  return c.transposed ? Shape{s.batch, s.out_channels, s.out_h, s.out_w}
                      : Shape{s.batch, s.in_channels, s.in_h, s.in_w};
}
Shape y_shape(const ConvCase& c) {
  const ConvShape& s = c.s;
  return c.transposed ? Shape{s.batch, s.in_channels, s.in_h, s.in_w}
                      : Shape{s.batch, s.out_channels, s.out_h, s.out_w};
}
Shape w_shape(const ConvCase& c) {
  return {c.s.out_channels, c.s.cin_g(), c.s.kernel_h, c.s.kernel_w};
}
int64_t bias_channels(const ConvCase& c) { return c.transposed ? c.s.in_channels : c.s.out_channels; }

ConvGeometry geometry(const ConvCase& c) {
  const ConvShape& s = c.s;
  ConvGeometry g;
  g.N = s.batch;
  g.k = s.kernel_h;
  g.stride = s.stride;
  g.pad = s.padding;
  g.dilation = s.dilation;
  g.groups = s.groups;
  if (c.transposed) {
    g.Cin = s.out_channels, g.H = s.out_h, g.W = s.out_w;
    g.Cout = s.in_channels, g.OH = s.in_h, g.OW = s.in_w;
  } else {
    g.Cin = s.in_channels, g.H = s.in_h, g.W = s.in_w;
    g.Cout = s.out_channels, g.OH = s.out_h, g.OW = s.out_w;
  }
  return g;
}

const char* op_of(const ConvCase& c) { return c.transposed ? "conv_transpose2d" : "conv2d"; }
// Depthwise convolutions do 9 multiply-adds per element read: bandwidth decides.
bool is_depthwise(const ConvCase& c) { return c.s.groups > 1 && c.s.groups == c.s.in_channels; }

std::string detail(const ConvCase& c, bool with_bias) {
  const ConvShape& s = c.s;
  std::string d = str("x", dims(x_shape(c)), " w", dims(w_shape(c)), " y", dims(y_shape(c)));
  if (s.stride != 1) d += str(" stride ", s.stride);
  if (s.dilation != 1) d += str(" dil ", s.dilation);
  if (s.groups != 1) d += str(" groups ", s.groups);
  if (with_bias) d += " +bias";
  return d;
}

// The convolution's own kernels (in library terms) on raw pointers, on either backend.
void conv_forward(const ConvShape& s, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) {
  const float* bias = b.defined() ? f32(b) : nullptr;
  on_f32(x, [&](auto k) { decltype(k)::conv2d_forward(s, f32(x), f32(w), bias, f32(y)); });
}
void conv_input_grad(const ConvShape& s, const Tensor& gy, const Tensor& w, const Tensor& gx) {
  on_f32(gy, [&](auto k) { decltype(k)::conv2d_backward_input(s, f32(gy), f32(w), f32(gx)); });
}
void conv_weight_grad(const ConvShape& s, const Tensor& gy, const Tensor& x, const Tensor& gw) {
  on_f32(gy, [&](auto k) { decltype(k)::conv2d_backward_weight(s, f32(gy), f32(x), f32(gw)); });
}
void add_bias(const Tensor& y, const Tensor& b) {
  const int64_t n = y.size(0), c = y.size(1), plane = y.size(2) * y.size(3);
  on_f32(y, [&](auto k) { decltype(k)::conv_add_bias(f32(y), f32(b), n, c, plane); });
}

// Inference: y = GELU(conv(x, w) + b) in one call (ops::conv2d_epilogue's kernels).
void add_conv_epilogue(const ConvCase& c, std::vector<KernelBench>& out) {
  const Shape xs = x_shape(c), ws = w_shape(c), ys = y_shape(c);
  const int64_t bc = c.s.out_channels;
  KernelBench b = bench_named(c.name + ".fwd_epilogue", "conv2d_epilogue", c.kernel + " + bias + GELU", "forward",
                              c.where, xs, detail(c, true) + " +GELU");
  b.bytes = f32_bytes(xs) + f32_bytes(ws) + 4.0 * static_cast<double>(bc) + f32_bytes(ys);
  b.flops = 2.0 * static_cast<double>(c.s.batch * c.s.out_channels * c.s.out_plane() * c.s.col_rows());
  b.make = [xs, ws, ys, bc](Device d, Generator& gen) {
    return Tensors{random_f32(xs, d, gen), random_f32(ws, d, gen, -0.5, 0.5), empty_f32(ys, d),
                   random_f32({bc}, d, gen)};
  };
  b.outputs = {kY};
  const ConvShape s = c.s;
  b.ours = per_set([s](const Tensors& t) {
    Epilogue<float> e;
    e.add = f32(t[kB]);
    e.act = EpiAct::Gelu;
    on_f32(t[kX], [&](auto k) { decltype(k)::conv2d_forward_epilogue(s, f32(t[kX]), f32(t[kW]), f32(t[kY]), e); });
  });
#ifdef PMSDSEN_WITH_CUDNN
  const ConvGeometry g = geometry(c);
  b.baseline = [g](const SharedBuffers& buf) {
    return cudnn_conv(buf, g, ConvPass::Forward, ConvSlots{kX, kW, kB, kY});  // the product and its bias, no GELU
  };
#endif
  out.push_back(std::move(b));
}

void add_conv(const ConvCase& c, std::vector<KernelBench>& out) {
  const Shape xs = x_shape(c), ws = w_shape(c), ys = y_shape(c);
  const double bx = f32_bytes(xs), bw = f32_bytes(ws), by = f32_bytes(ys);
  const double bb = c.bias ? 4.0 * static_cast<double>(bias_channels(c)) : 0.0;
  const double flops = 2.0 * static_cast<double>(c.s.batch * c.s.out_channels * c.s.out_plane() * c.s.col_rows());
  const ConvShape s = c.s;
  const bool tr = c.transposed;
  [[maybe_unused]] const ConvGeometry g = geometry(c);

  // forward: x, w (, b) -> y
  {
    KernelBench b = bench_named(c.name + ".fwd", op_of(c), c.kernel, "forward", c.where, xs, detail(c, c.bias));
    b.bandwidth_bound = is_depthwise(c);
    b.bytes = bx + bw + bb + by;
    b.flops = flops;
    const bool bias = c.bias;
    const int64_t bc = bias_channels(c);
    b.make = [xs, ws, ys, bias, bc](Device d, Generator& gen) {
      Tensors t = {random_f32(xs, d, gen), random_f32(ws, d, gen, -0.5, 0.5), empty_f32(ys, d)};
      if (bias) t.push_back(random_f32({bc}, d, gen));
      return t;
    };
    b.outputs = {kY};
    b.ours = per_set([s, tr, bias](const Tensors& t) {
      const Tensor none;
      if (tr) {
        conv_input_grad(s, t[kX], t[kW], t[kY]);
        if (bias) add_bias(t[kY], t[kB]);
      } else {
        conv_forward(s, t[kX], t[kW], bias ? t[kB] : none, t[kY]);
      }
    });
#ifdef PMSDSEN_WITH_CUDNN
    b.baseline = [g, tr, bias](const SharedBuffers& buf) {
      const ConvSlots slots{kX, kW, bias ? kB : -1, kY};
      return tr ? cudnn_conv_transpose(buf, g, ConvPass::Forward, slots)
                : cudnn_conv(buf, g, ConvPass::Forward, slots);
    };
#endif
    out.push_back(std::move(b));
  }
  // input gradient: gy, w -> gx
  if (c.input_grad) {
    KernelBench b = bench_named(c.name + ".input_grad", op_of(c), c.kernel, "input_grad",
                                c.where, xs, detail(c, false));
    b.bandwidth_bound = is_depthwise(c);
    b.bytes = by + bw + bx;
    b.flops = flops;
    b.make = [xs, ws, ys](Device d, Generator& gen) {
      return Tensors{empty_f32(xs, d), random_f32(ws, d, gen, -0.5, 0.5), random_f32(ys, d, gen)};
    };
    b.outputs = {kX};
    b.ours = per_set([s, tr](const Tensors& t) {
      if (tr) {
        conv_forward(s, t[kY], t[kW], Tensor(), t[kX]);
      } else {
        conv_input_grad(s, t[kY], t[kW], t[kX]);
      }
    });
#ifdef PMSDSEN_WITH_CUDNN
    b.baseline = [g, tr](const SharedBuffers& buf) {
      const ConvSlots slots{kX, kW, -1, kY};
      return tr ? cudnn_conv_transpose(buf, g, ConvPass::InputGrad, slots)
                : cudnn_conv(buf, g, ConvPass::InputGrad, slots);
    };
#endif
    out.push_back(std::move(b));
  }
  // weight gradient: x, gy -> gw (the bias gradient is a separate small reduction, not timed)
  {
    KernelBench b = bench_named(c.name + ".weight_grad", op_of(c), c.kernel, "weight_grad",
                                c.where, xs, detail(c, false));
    b.bandwidth_bound = is_depthwise(c);
    b.bytes = bx + by + bw;
    b.flops = flops;
    b.make = [xs, ws, ys](Device d, Generator& gen) {
      return Tensors{random_f32(xs, d, gen), empty_f32(ws, d), random_f32(ys, d, gen)};
    };
    b.outputs = {kW};
    b.ours = per_set([s, tr](const Tensors& t) {
      if (tr) {
        // The transposed op's input is the convolution's output gradient.
        conv_weight_grad(s, t[kX], t[kY], t[kW]);
      } else {
        conv_weight_grad(s, t[kY], t[kX], t[kW]);
      }
    });
#ifdef PMSDSEN_WITH_CUDNN
    b.baseline = [g, tr](const SharedBuffers& buf) {
      const ConvSlots slots{kX, kW, -1, kY};
      return tr ? cudnn_conv_transpose(buf, g, ConvPass::WeightGrad, slots)
                : cudnn_conv(buf, g, ConvPass::WeightGrad, slots);
    };
#endif
    out.push_back(std::move(b));
  }
}

ConvShape conv_shape(int64_t n, int64_t cin, int64_t h, int64_t w, int64_t cout, int64_t k, int64_t stride,
                     int64_t pad, int64_t dil, int64_t groups) {
  ConvShape s;
  s.batch = n;
  s.in_channels = cin, s.in_h = h, s.in_w = w;
  s.out_channels = cout;
  s.kernel_h = s.kernel_w = k;
  s.stride = stride, s.padding = pad, s.dilation = dil, s.groups = groups;
  s.out_h = conv_out_size(h, k, stride, pad, dil);
  s.out_w = conv_out_size(w, k, stride, pad, dil);
  return s;
}

const char* kStageNames[3] = {"stage 1 (H/2)", "stage 2 (H/4)", "stage 3 (H/8)"};

void depthwise(const NetConfig& config, std::vector<KernelBench>& out) {
  const NetShapes n = net_shapes(config);
  const Stage stages[3] = {n.s1, n.s2, n.s3};
  for (int i = 0; i < 3; ++i) {
    const Stage st = stages[i];
    const int64_t ldi = st.channels / 2;   // LDIBasic's process: ceil(ch / 2) channels, no bias
    add_conv({"dwconv3x3_d1", "depthwise conv 3x3", str("LDI process, ", kStageNames[i]),
              conv_shape(n.n, ldi, st.h, st.w, ldi, 3, 1, 1, 1, ldi), false, false},
             out);
    const int64_t lrms = st.channels / 8;  // LRMS(d = ch / 2) branches: d / 4 channels, bias
    for (int64_t d = 1; d <= 4; ++d)
      add_conv({str("dwconv3x3_d", d), "depthwise conv 3x3", str("LRMS x", d, ", ", kStageNames[i]),
                conv_shape(n.n, lrms, st.h, st.w, lrms, 3, 1, d, d, lrms), true, false},
               out);
  }
}

void pointwise(const NetConfig& config, std::vector<KernelBench>& out) {
  const NetShapes n = net_shapes(config);
  const Stage stages[3] = {n.s1, n.s2, n.s3};
  for (int i = 0; i < 3; ++i) {
    const Stage st = stages[i];
    add_conv({"conv1x1", "pointwise conv", str("LDI compress, ", kStageNames[i]),
              conv_shape(n.n, st.channels, st.h, st.w, st.channels / 2, 1, 1, 0, 1, 1), false, false},
             out);
    add_conv({"conv1x1", "pointwise conv", str("PMSDSE conv1x1, ", kStageNames[i]),
              conv_shape(n.n, st.channels, st.h, st.w, st.channels, 1, 1, 0, 1, 1), true, false},
             out);
  }
  // MSSE tail: 5 x mid (64) -> 4C over the H/8 map.
  add_conv({"conv1x1", "pointwise conv", "MSSE tail (H/8)",
            conv_shape(n.n, 5 * n.s3.channels / 2, n.s3.h, n.s3.w, n.s3.channels, 1, 1, 0, 1, 1), false, false},
           out);
  // Inference: every pointwise convolution has a bias once its BN is folded.
  for (int i = 0; i < 3; ++i) {
    const Stage st = stages[i];
    add_conv_epilogue({"conv1x1", "pointwise conv", str("LDI compress, ", kStageNames[i]),
                       conv_shape(n.n, st.channels, st.h, st.w, st.channels / 2, 1, 1, 0, 1, 1)},
                      out);
    add_conv_epilogue({"conv1x1", "pointwise conv", str("PMSDSE conv1x1, ", kStageNames[i]),
                       conv_shape(n.n, st.channels, st.h, st.w, st.channels, 1, 1, 0, 1, 1)},
                      out);
  }
  add_conv_epilogue({"conv1x1", "pointwise conv", "MSSE tail (H/8)",
                     conv_shape(n.n, 5 * n.s3.channels / 2, n.s3.h, n.s3.w, n.s3.channels, 1, 1, 0, 1, 1)},
                    out);
}

void dense(const NetConfig& config, std::vector<KernelBench>& out) {
  const NetShapes n = net_shapes(config);
  add_conv({"conv3x3_s2", "dense conv 3x3", "stem conv 1 (image -> H/2)",
            conv_shape(n.n, 3, n.h, n.w, n.s1.channels / 2, 3, 2, 1, 1, 1), true, false, false},
           out);
  add_conv({"conv3x3", "dense conv 3x3", "stem conv 2 (H/2)",
            conv_shape(n.n, n.s1.channels / 2, n.s1.h, n.s1.w, n.s1.channels, 3, 1, 1, 1, 1), true, false},
           out);
  add_conv({"conv3x3_s2", "dense conv 3x3", "down2 (H/2 -> H/4)",
            conv_shape(n.n, n.s1.channels + 3, n.s1.h, n.s1.w, n.s2.channels - n.s1.channels, 3, 2, 1, 1, 1),
            false, false},
           out);
  add_conv({"conv3x3_s2", "dense conv 3x3", "down3 (H/4 -> H/8)",
            conv_shape(n.n, n.s2.channels + 3, n.s2.h, n.s2.w, n.s3.channels - n.s2.channels, 3, 2, 1, 1, 1),
            false, false},
           out);
  add_conv({"conv3x3", "dense conv 3x3", "MSSE p1-p4 (H/8)",
            conv_shape(n.n, n.s3.channels / 2, n.s3.h, n.s3.w, n.s3.channels / 2, 3, 1, 1, 1, 1), false, false},
           out);
}

// ConvTranspose2d(cin, cout, 3, stride 2, pad 1, output_padding 1) on [N, cin, h, w].
ConvShape transposed_shape(int64_t n, int64_t cin, int64_t h, int64_t w, int64_t cout) {
  ConvShape s;  // the convolution it is the input gradient of: in = its output, out = its input
  s.batch = n;
  s.in_channels = cout, s.in_h = 2 * h, s.in_w = 2 * w;
  s.out_channels = cin, s.out_h = h, s.out_w = w;
  s.kernel_h = s.kernel_w = 3;
  s.stride = 2, s.padding = 1;
  return s;
}

void transposed(const NetConfig& config, std::vector<KernelBench>& out) {
  const NetShapes n = net_shapes(config);
  add_conv({"convT3x3_s2", "transposed conv 3x3", "up4 (H/8 -> H/4)",
            transposed_shape(n.n, n.s3.channels, n.s3.h, n.s3.w, n.s2.channels), true, true},
           out);
  add_conv({"convT3x3_s2", "transposed conv 3x3", "up5 (H/4 -> H/2)",
            transposed_shape(n.n, n.s2.channels, n.s2.h, n.s2.w, n.s1.channels), true, true},
           out);
}

}  // namespace

PMSDSEN_BENCH_FAMILY(10, depthwise);
PMSDSEN_BENCH_FAMILY(20, pointwise);
PMSDSEN_BENCH_FAMILY(30, dense);
PMSDSEN_BENCH_FAMILY(40, transposed);

}  // namespace pmsdsen::bench
