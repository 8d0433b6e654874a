// Gradient-check cases of normalisation, activations, pooling, resizing and losses: every
// configuration PMSDSEN uses, on small odd sizes with batch > 1.
#include "autograd/gradcheck_suite.h"
#include "autograd/ops_activation.h"
#include "autograd/ops_loss.h"
#include "autograd/ops_norm.h"
#include "autograd/ops_pool.h"
#include "autograd/ops_resize.h"

namespace pmsdsen::autograd {

namespace {

using V = std::vector<Tensor>;

// int64 targets in [0, K), with about `ignored` of them set to 255.
Tensor random_target(Generator& g, const Shape& shape, int64_t K, double ignored) {
  std::vector<int64_t> v(static_cast<size_t>(shape_numel(shape)));
  for (int64_t& t : v) t = g.uniform() < ignored ? 255 : g.randint(0, K - 1);
  return Tensor::from_vector(v, shape);
}

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

// cross_entropy on in = {logits, target}.
GradCase ce_case(std::string config, Shape logits_shape, double ignored, std::vector<double> weights,
                 bool ohem, double thresh, int64_t min_kept, double logit_range) {
  GradCase c;
  c.op = ohem ? "ohem_cross_entropy" : "cross_entropy";
  c.config = std::move(config);
  c.make_inputs = [logits_shape, ignored, logit_range](Generator& g) {
    Shape ts = logits_shape;
    ts.erase(ts.begin() + 1);
    Tensor x = random_input(g, logits_shape, true, -logit_range, logit_range);
    return V{x, random_target(g, ts, logits_shape[1], ignored)};
  };
  c.fn = [weights, ohem, thresh, min_kept](const V& in) {
    ops::CrossEntropyOptions o;
    if (!weights.empty()) o.class_weights = Tensor::from_vector(weights, {static_cast<int64_t>(weights.size())});
    o.ohem = ohem;
    o.ohem_threshold = thresh;
    o.ohem_min_kept = min_kept;
    return ops::cross_entropy(in[0], in[1], o);
  };
  return c;
}

}  // namespace

void add_nn_grad_cases(std::vector<GradCase>& cases) {
  // ---- batch normalisation ---------------------------------------------------------
  cases.push_back(bn_case("training x[3,5,7,9] affine", {3, 5, 7, 9}, true, true, true, 1e-5));
  cases.push_back(bn_case("training x[2,3,5,4] no affine eps 1e-3", {2, 3, 5, 4}, false, false, true, 1e-3));
  cases.push_back(bn_case("training x[5,6,1,1] (DWFF)", {5, 6, 1, 1}, true, true, true, 1e-5));
  cases.push_back(bn_case("training x[7,3] (2-D)", {7, 3}, true, true, true, 1e-5));
  cases.push_back(bn_case("eval x[2,5,6,7] affine", {2, 5, 6, 7}, true, true, false, 1e-5));
  cases.push_back(bn_case("frozen x[3,4,5,3] affine frozen", {3, 4, 5, 3}, true, false, false, 1e-3));

  // ---- activations -------------------------------------------------------------------
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

  // ---- pooling -------------------------------------------------------------------------
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

  // ---- bilinear resizing -------------------------------------------------------------------
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

  // ---- losses ----------------------------------------------------------------------------
  cases.push_back(ce_case("x[2,5,3,4] 20% ignored", {2, 5, 3, 4}, 0.2, {}, false, 0, 0, 2.0));
  cases.push_back(ce_case("x[3,4,3,3] weighted, ignored", {3, 4, 3, 3}, 0.25, {0.5, 2.0, 1.0, 3.5}, false, 0, 0, 2.0));
  cases.push_back(ce_case("x[2,3,5] (3-D logits)", {2, 3, 5}, 0.0, {}, false, 0, 0, 2.0));
  // OHEM where thresh 0.7 decides (min_kept small) and where min_kept does.
  cases.push_back(ce_case("x[2,3,4,5] thresh 0.7 min_kept 4", {2, 3, 4, 5}, 0.15, {}, true, 0.7, 4, 4.0));
  cases.push_back(ce_case("x[2,3,4,5] thresh 0.1 min_kept 20", {2, 3, 4, 5}, 0.15, {}, true, 0.1, 20, 4.0));
  cases.push_back(ce_case("x[2,4,3,4] weighted thresh 0.7", {2, 4, 3, 4}, 0.15, {1.0, 0.5, 2.0, 1.5}, true, 0.7, 3, 4.0));
}

}  // namespace pmsdsen::autograd
