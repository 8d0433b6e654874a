// Gradient-check cases of the activation family: activations and the softmax across channel groups.
#include "autograd/gradcheck_suite.h"
#include "autograd/ops_activation.h"

namespace pmsdsen::autograd {

namespace {
using V = std::vector<Tensor>;
}  // namespace

void add_activation_grad_cases(std::vector<GradCase>& cases) {
  cases.push_back({"gelu", "x[2,3,5,7]", [](Generator& g) { return V{random_input(g, {2, 3, 5, 7}, true, -3, 3)}; },
                   [](const V& in) { return ops::gelu(in[0]); }, {}});
  cases.push_back({"prelu", "x[2,5,4,3] slope[5]",
                   [](Generator& g) { return V{random_input(g, {2, 5, 4, 3}), random_input(g, {5}, true, 0, 0.5)}; },
                   [](const V& in) { return ops::prelu(in[0], in[1]); }, {}});
  cases.push_back({"prelu", "x[3,2,3,5] slope[1] shared",
                   [](Generator& g) { return V{random_input(g, {3, 2, 3, 5}), random_input(g, {1}, true, 0, 0.5)}; },
                   [](const V& in) { return ops::prelu(in[0], in[1]); }, {}});
  cases.push_back({"leaky_relu", "slope 0.2 x[2,3,5,7]", [](Generator& g) { return V{random_input(g, {2, 3, 5, 7})}; },
                   [](const V& in) { return ops::leaky_relu(in[0], 0.2); }, {}});
  cases.push_back({"sigmoid", "x[2,3,5,7]", [](Generator& g) { return V{random_input(g, {2, 3, 5, 7}, true, -4, 4)}; },
                   [](const V& in) { return ops::sigmoid(in[0]); }, {}});
  cases.push_back({"softmax_groups", "G=2 x[3,10,1,1] (DWFF)",
                   [](Generator& g) { return V{random_input(g, {3, 10, 1, 1}, true, -2, 2)}; },
                   [](const V& in) { return ops::softmax_groups(in[0], 2); }, {}});
  cases.push_back({"softmax_groups", "G=3 x[2,6,3,5]",
                   [](Generator& g) { return V{random_input(g, {2, 6, 3, 5}, true, -2, 2)}; },
                   [](const V& in) { return ops::softmax_groups(in[0], 3); }, {}});
}

}  // namespace pmsdsen::autograd
