// Gradient-check cases of the resize family: bilinear resizing to a size and by a scale,
// align_corners both ways, 1x1 planes.
#include "autograd/gradcheck_suite.h"
#include "autograd/ops_resize.h"

namespace pmsdsen::autograd {

namespace {

using V = std::vector<Tensor>;

GradCase bilinear_size_case(Shape x_shape, int64_t oh, int64_t ow, bool align_corners) {
  GradCase c;
  c.op = "bilinear";
  c.config = str("x", shape_str(x_shape), " to ", oh, "x", ow, align_corners ? " align_corners" : "");
  c.make_inputs = [x_shape](Generator& g) { return V{random_input(g, x_shape)}; };
  c.fn = [oh, ow, align_corners](const V& in) { return ops::bilinear(in[0], oh, ow, align_corners); };
  return c;
}

GradCase bilinear_scale_case(Shape x_shape, double scale, bool align_corners) {
  GradCase c;
  c.op = "bilinear_scale";
  c.config = str("x", shape_str(x_shape), " by ", scale, align_corners ? " align_corners" : "");
  c.make_inputs = [x_shape](Generator& g) { return V{random_input(g, x_shape)}; };
  c.fn = [scale, align_corners](const V& in) { return ops::bilinear_scale(in[0], scale, align_corners); };
  return c;
}

}  // namespace

void add_resize_grad_cases(std::vector<GradCase>& cases) {
  cases.push_back(bilinear_size_case({2, 3, 4, 5}, 8, 10, false));
  cases.push_back(bilinear_size_case({2, 2, 9, 11}, 4, 5, false));
  cases.push_back(bilinear_size_case({1, 2, 5, 7}, 11, 3, false));
  cases.push_back(bilinear_size_case({2, 2, 4, 5}, 7, 9, true));
  cases.push_back(bilinear_size_case({1, 2, 9, 11}, 5, 6, true));
  cases.push_back(bilinear_size_case({2, 3, 1, 1}, 5, 4, false));
  cases.push_back(bilinear_size_case({2, 3, 1, 1}, 5, 4, true));
  cases.push_back(bilinear_size_case({1, 2, 4, 5}, 1, 1, true));
  cases.push_back(bilinear_scale_case({1, 2, 3, 4}, 8.0, false));
  cases.push_back(bilinear_scale_case({2, 2, 5, 7}, 1.5, false));
  cases.push_back(bilinear_scale_case({1, 2, 10, 13}, 0.5, false));
  cases.push_back(bilinear_scale_case({1, 2, 10, 13}, 0.5, true));
  cases.push_back(bilinear_scale_case({1, 2, 5, 6}, 2.0, true));
}

}  // namespace pmsdsen::autograd
