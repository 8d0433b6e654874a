// Gradient-check cases of the norm family: batch normalisation: training (2-D and 4-D, with and
// without affine), evaluation and frozen; its synchronised form in one process (its
// agreement across ranks: tests/mpi/test_mpi_sync_bn.cpp).
#include "autograd/gradcheck_suite.h"
#include "autograd/ops_norm.h"

namespace pmsdsen::autograd {

namespace {

using V = std::vector<Tensor>;

// batch_norm on in = {x, weight, bias, running_mean, running_var}; weight/bias may be
// undefined.
GradCase bn_case(std::string config, Shape x_shape, bool affine, bool affine_grad, bool training,
                 double eps) {
  const int64_t C = x_shape[1];
  GradCase c;
  c.op = "batch_norm";
  c.config = std::move(config);
  c.make_inputs = [x_shape, C, affine, affine_grad](Generator& g) {
    Tensor x = random_input(g, x_shape, true, -2.0, 3.0);
    Tensor w = affine ? random_input(g, {C}, affine_grad, 0.5, 1.5) : Tensor();
    Tensor b = affine ? random_input(g, {C}, affine_grad, -0.5, 0.5) : Tensor();
    return V{x, w, b, random_input(g, {C}, false, -0.3, 0.3), random_input(g, {C}, false, 0.5, 2.0)};
  };
  c.fn = [training, eps](const V& in) {
    Tensor rm = in[3], rv = in[4];
    return ops::batch_norm(in[0], in[1], in[2], rm, rv, training, 0.1, eps);
  };
  return c;
}

GradCase sync_bn_case(std::string config, Shape x_shape, bool affine) {
  GradCase c = bn_case(std::move(config), x_shape, affine, affine, true, 1e-5);
  c.op = "sync_batch_norm";
  c.fn = [](const V& in) {
    static const std::unique_ptr<comm::Communicator> one = comm::single_process();
    Tensor rm = in[3], rv = in[4];
    return ops::sync_batch_norm(in[0], in[1], in[2], rm, rv, *one);
  };
  return c;
}

}  // namespace

void add_norm_grad_cases(std::vector<GradCase>& cases) {
  cases.push_back(bn_case("training x[3,5,7,9] affine", {3, 5, 7, 9}, true, true, true, 1e-5));
  cases.push_back(bn_case("training x[2,3,5,4] no affine eps 1e-3", {2, 3, 5, 4}, false, false, true, 1e-3));
  cases.push_back(bn_case("training x[5,6,1,1] (DWFF)", {5, 6, 1, 1}, true, true, true, 1e-5));
  cases.push_back(bn_case("training x[7,3] (2-D)", {7, 3}, true, true, true, 1e-5));
  cases.push_back(bn_case("eval x[2,5,6,7] affine", {2, 5, 6, 7}, true, true, false, 1e-5));
  cases.push_back(bn_case("frozen x[3,4,5,3] affine frozen", {3, 4, 5, 3}, true, false, false, 1e-3));
  cases.push_back(sync_bn_case("one rank x[3,5,7,9] affine", {3, 5, 7, 9}, true));
  cases.push_back(sync_bn_case("one rank x[7,3] (2-D) no affine", {7, 3}, false));
}

}  // namespace pmsdsen::autograd
