// Gradient-check cases of the basic ops, and of a composed graph in which one tensor
// feeds three branches (as PMSDSE feeds its input to LDI, MSLRI and ECA).
#include "autograd/gradcheck_suite.h"
#include "autograd/ops_basic.h"

namespace pmsdsen::autograd {

void add_basic_grad_cases(std::vector<GradCase>& cases) {
  using V = std::vector<Tensor>;
  auto two = [](Shape a, Shape b) {
    return [a, b](Generator& g) { return V{random_input(g, a), random_input(g, b)}; };
  };
  auto one = [](Shape a) { return [a](Generator& g) { return V{random_input(g, a)}; }; };

  cases.push_back({"add", "x[2,3,5,7]", two({2, 3, 5, 7}, {2, 3, 5, 7}),
                   [](const V& in) { return ops::add(in[0], in[1]); }, {}});
  cases.push_back({"sub", "x[2,3,5,7]", two({2, 3, 5, 7}, {2, 3, 5, 7}),
                   [](const V& in) { return ops::sub(in[0], in[1]); }, {}});
  cases.push_back({"mul", "x[2,3,5,7]", two({2, 3, 5, 7}, {2, 3, 5, 7}),
                   [](const V& in) { return ops::mul(in[0], in[1]); }, {}});
  cases.push_back({"scale", "x[3,5,7] by -1.7", one({3, 5, 7}),
                   [](const V& in) { return ops::scale(in[0], -1.7); }, {}});
  cases.push_back({"mul_channel", "x[2,5,3,7] s[2,5,1,1]", two({2, 5, 3, 7}, {2, 5, 1, 1}),
                   [](const V& in) { return ops::mul_channel(in[0], in[1]); }, {}});
  cases.push_back({"sum", "x[2,3,5,7]", one({2, 3, 5, 7}), [](const V& in) { return ops::sum(in[0]); }, {}});
  cases.push_back({"mean", "x[2,3,5,7]", one({2, 3, 5, 7}), [](const V& in) { return ops::mean(in[0]); }, {}});
  cases.push_back({"concat_channels", "[2,3,4,5]+[2,1,4,5]+[2,5,4,5]",
                   [](Generator& g) {
                     return V{random_input(g, {2, 3, 4, 5}), random_input(g, {2, 1, 4, 5}, false),
                              random_input(g, {2, 5, 4, 5})};
                   },
                   [](const V& in) { return ops::concat_channels(in); }, {}});
  cases.push_back({"slice_channels", "channels 2..6 of [2,7,3,5]", one({2, 7, 3, 5}),
                   [](const V& in) { return ops::slice_channels(in[0], 2, 4); }, {}});
  cases.push_back({"reshape", "[2,6,5] as [3,-1]", one({2, 6, 5}),
                   [](const V& in) { return ops::reshape(in[0], {3, -1}); }, {}});
  cases.push_back({"matmul", "[7,5]x[5,9]", two({7, 5}, {5, 9}),
                   [](const V& in) { return ops::matmul(in[0], in[1]); }, {}});
  // x feeds three branches whose results are summed; one branch reuses x twice.
  cases.push_back({"composed", "x reused by three branches",
                   [](Generator& g) { return V{random_input(g, {2, 4, 3, 5}), random_input(g, {2, 4, 1, 1})}; },
                   [](const V& in) {
                     const Tensor& x = in[0];
                     Tensor a = ops::mul(x, x);
                     Tensor b = ops::mul_channel(x, in[1]);
                     Tensor c = ops::concat_channels({ops::slice_channels(x, 2, 2), ops::slice_channels(x, 0, 2)});
                     return ops::add(ops::add(a, b), ops::scale(c, 0.5));
                   },
                   {}});
}

}  // namespace pmsdsen::autograd
