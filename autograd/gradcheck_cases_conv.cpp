// Gradient-check cases of the convolutions: every configuration PMSDSEN uses (dense 3x3
// stride 1 and 2, 1x1, depthwise 3x3 with dilations 1-4, the decoder's transposed 3x3,
// ECA's channel convolution) plus the general paths (groups, rectangular kernels,
// padding beyond the kernel's reach, depthwise stride 2), at odd sizes with batch > 1.
#include <string>

#include "autograd/gradcheck_suite.h"
#include "autograd/ops_basic.h"
#include "autograd/ops_conv.h"

namespace pmsdsen::autograd {

namespace {

using V = std::vector<Tensor>;

// "[2,3,7,6]": shapes without spaces, to keep `pmsdsen gradcheck`'s table narrow.
std::string dims(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

// x, w and (when has_bias) b, all checked.
std::function<V(Generator&)> conv_inputs(Shape x, Shape w, bool has_bias, int64_t bias_size) {
  return [x, w, has_bias, bias_size](Generator& g) {
    return V{random_input(g, x), random_input(g, w),
             has_bias ? random_input(g, {bias_size}) : Tensor()};
  };
}

void add_conv2d(std::vector<GradCase>& cases, const std::string& what, Shape x, Shape w,
                bool bias, ops::Conv2dOptions o) {
  const std::string config = what + " x" + dims(x) + " w" + dims(w) + " s" +
                             std::to_string(o.stride) + " p" + std::to_string(o.padding) + " d" +
                             std::to_string(o.dilation) + " g" + std::to_string(o.groups) +
                             (bias ? " bias" : "");
  cases.push_back({"conv2d", config, conv_inputs(x, w, bias, w[0]),
                   [o](const V& in) { return ops::conv2d(in[0], in[1], in[2], o); }, {}});
}

void add_conv_transpose2d(std::vector<GradCase>& cases, Shape x, Shape w, bool bias,
                          ops::ConvTranspose2dOptions o) {
  const std::string config = "x" + dims(x) + " w" + dims(w) + " s" + std::to_string(o.stride) +
                             " p" + std::to_string(o.padding) + " op" +
                             std::to_string(o.output_padding) + (bias ? " bias" : "");
  cases.push_back({"conv_transpose2d", config, conv_inputs(x, w, bias, w[1]),
                   [o](const V& in) { return ops::conv_transpose2d(in[0], in[1], in[2], o); }, {}});
}

void add_channel_conv1d(std::vector<GradCase>& cases, Shape x, int64_t k) {
  cases.push_back({"channel_conv1d", "x" + dims(x) + " k " + std::to_string(k),
                   [x, k](Generator& g) { return V{random_input(g, x), random_input(g, {1, 1, k})}; },
                   [](const V& in) { return ops::channel_conv1d(in[0], in[1]); }, {}});
}

ops::Conv2dOptions conv(int64_t stride, int64_t padding, int64_t dilation = 1, int64_t groups = 1) {
  ops::Conv2dOptions o;
  o.stride = stride;
  o.padding = padding;
  o.dilation = dilation;
  o.groups = groups;
  return o;
}

}  // namespace

void add_conv_grad_cases(std::vector<GradCase>& cases) {
  // Dense 3x3: the stem and MSSE (stride 1), the stem and downsampling blocks (stride 2).
  add_conv2d(cases, "dense 3x3", {2, 3, 7, 6}, {4, 3, 3, 3}, true, conv(1, 1));
  add_conv2d(cases, "dense 3x3", {2, 3, 9, 8}, {5, 3, 3, 3}, true, conv(2, 1));
  add_conv2d(cases, "dense 3x3", {1, 5, 7, 7}, {3, 5, 3, 3}, false, conv(2, 1));
  // 1x1 pointwise, on a map and on pooled [N, C, 1, 1] vectors (DWFF, MSSE).
  add_conv2d(cases, "1x1", {2, 5, 4, 7}, {3, 5, 1, 1}, true, conv(1, 0));
  add_conv2d(cases, "1x1 pooled", {3, 6, 1, 1}, {4, 6, 1, 1}, true, conv(1, 0));
  // Depthwise 3x3 with PMSDSEN's dilations (padding = dilation) and a shrinking one.
  add_conv2d(cases, "depthwise 3x3", {2, 5, 9, 11}, {5, 1, 3, 3}, true, conv(1, 1, 1, 5));
  add_conv2d(cases, "depthwise 3x3", {2, 3, 9, 10}, {3, 1, 3, 3}, true, conv(1, 2, 2, 3));
  add_conv2d(cases, "depthwise 3x3", {1, 4, 11, 9}, {4, 1, 3, 3}, true, conv(1, 3, 3, 4));
  add_conv2d(cases, "depthwise 3x3", {2, 3, 12, 13}, {3, 1, 3, 3}, true, conv(1, 4, 4, 3));
  add_conv2d(cases, "depthwise 3x3 narrow", {1, 2, 5, 3}, {2, 1, 3, 3}, false, conv(1, 4, 4, 2));
  add_conv2d(cases, "depthwise 3x3 unpadded", {1, 3, 9, 9}, {3, 1, 3, 3}, false, conv(1, 0, 2, 3));
  // General paths: depthwise stride 2, channel multiplier, groups with dilation,
  // rectangular kernel, padding beyond the kernel's reach.
  add_conv2d(cases, "depthwise 3x3", {1, 4, 9, 8}, {4, 1, 3, 3}, true, conv(2, 1, 1, 4));
  add_conv2d(cases, "depthwise x2 multiplier", {1, 3, 6, 7}, {6, 1, 3, 3}, true, conv(1, 1, 1, 3));
  add_conv2d(cases, "grouped dilated", {2, 4, 6, 7}, {6, 2, 3, 3}, false, conv(1, 2, 2, 2));
  add_conv2d(cases, "rectangular 3x5", {1, 2, 8, 9}, {3, 2, 3, 5}, true, conv(1, 1));
  add_conv2d(cases, "1x1 padded", {1, 3, 4, 5}, {2, 3, 1, 1}, false, conv(1, 1));
  add_conv2d(cases, "dense 3x3 stride 3", {2, 2, 8, 10}, {3, 2, 3, 3}, true, conv(3, 2));

  // The decoder's upsampler: 3x3, stride 2, padding 1, output padding 1, bias.
  add_conv_transpose2d(cases, {2, 4, 5, 6}, {4, 3, 3, 3}, true, {2, 1, 1});
  add_conv_transpose2d(cases, {1, 3, 4, 5}, {3, 2, 3, 3}, false, {2, 1, 0});
  add_conv_transpose2d(cases, {1, 2, 3, 4}, {2, 3, 2, 2}, true, {2, 0, 0});
  add_conv_transpose2d(cases, {2, 3, 5, 4}, {3, 2, 3, 3}, true, {1, 1, 0});

  // ECA: k = 3 (32 and 64 channels) and 5 (128), at small channel counts.
  add_channel_conv1d(cases, {3, 7, 1, 1}, 3);
  add_channel_conv1d(cases, {2, 9, 1, 1}, 5);
  add_channel_conv1d(cases, {2, 3, 1, 1}, 5);
  add_channel_conv1d(cases, {2, 4, 1, 1}, 1);

  // LRMS in miniature: a 1x1 head, then depthwise branches of dilation 1..4 summed.
  cases.push_back({"composed", "1x1 then depthwise d1-4 summed, x[2,4,9,10]",
                   [](Generator& g) {
                     return V{random_input(g, {2, 4, 9, 10}), random_input(g, {4, 4, 1, 1}),
                              random_input(g, {4, 1, 3, 3}), random_input(g, {4, 1, 3, 3}, false)};
                   },
                   [](const V& in) {
                     Tensor h = ops::conv2d(in[0], in[1], Tensor(), conv(1, 0));
                     Tensor sum;
                     for (int64_t d = 1; d <= 4; ++d) {
                       Tensor b = ops::conv2d(h, d % 2 ? in[2] : in[3], Tensor(), conv(1, d, d, 4));
                       sum = sum.defined() ? ops::add(sum, b) : b;
                     }
                     return sum;
                   },
                   {}});
}

}  // namespace pmsdsen::autograd
