// Gradient-check cases of the pool family: pooling: every kernel/stride/padding PMSDSEN uses, and
// an input smaller than the kernel.
#include "autograd/gradcheck_suite.h"
#include "autograd/ops_pool.h"

namespace pmsdsen::autograd {

namespace {

using V = std::vector<Tensor>;

GradCase pool_case(const char* op, Shape x_shape, int64_t k, int64_t s, int64_t p) {
  GradCase c;
  c.op = op;
  c.config = str("k", k, " s", s, " p", p, " x", shape_str(x_shape));
  c.make_inputs = [x_shape](Generator& g) { return V{random_input(g, x_shape)}; };
  const bool is_max = std::string(op) == "max_pool2d";
  c.fn = [is_max, k, s, p](const V& in) {
    return is_max ? ops::max_pool2d(in[0], k, s, p) : ops::avg_pool2d(in[0], k, s, p);
  };
  return c;
}

}  // namespace

void add_pool_grad_cases(std::vector<GradCase>& cases) {
  cases.push_back(pool_case("avg_pool2d", {2, 3, 7, 9}, 2, 2, 0));
  cases.push_back(pool_case("avg_pool2d", {2, 3, 7, 9}, 3, 2, 1));
  cases.push_back(pool_case("avg_pool2d", {2, 2, 9, 11}, 5, 2, 2));
  cases.push_back(pool_case("avg_pool2d", {1, 3, 9, 13}, 9, 4, 4));
  cases.push_back(pool_case("avg_pool2d", {2, 2, 19, 21}, 17, 8, 8));
  cases.push_back(pool_case("avg_pool2d", {2, 3, 4, 8}, 17, 8, 8));  // input smaller than the kernel
  cases.push_back(pool_case("max_pool2d", {2, 3, 7, 9}, 2, 2, 0));
  cases.push_back(pool_case("max_pool2d", {2, 3, 7, 9}, 3, 2, 1));
  cases.push_back(pool_case("max_pool2d", {1, 2, 2, 3}, 3, 2, 1));
  cases.push_back({"global_avg_pool", "x[2,3,5,7]", [](Generator& g) { return V{random_input(g, {2, 3, 5, 7})}; },
                   [](const V& in) { return ops::global_avg_pool(in[0]); }, {}});
}

}  // namespace pmsdsen::autograd
