// Gradient-check cases of the loss family: the cross-entropy: plain, weighted, ignore label, 3-D
// logits, OHEM where the threshold and where min_kept decides.
#include "autograd/gradcheck_suite.h"
#include "autograd/ops_loss.h"

namespace pmsdsen::autograd {

namespace {

using V = std::vector<Tensor>;

// int64 targets in [0, K), with about `ignored` of them set to 255.
Tensor random_target(Generator& g, const Shape& shape, int64_t K, double ignored) {
  std::vector<int64_t> v(static_cast<size_t>(shape_numel(shape)));
  for (int64_t& t : v) t = g.uniform() < ignored ? 255 : g.randint(0, K - 1);
  return Tensor::from_vector(v, shape);
}

// cross_entropy on in = {logits, target}.
GradCase ce_case(std::string config, Shape logits_shape, double ignored, std::vector<double> weights,
                 bool ohem, double thresh, int64_t min_kept, double logit_range) {
  GradCase c;
  c.op = "cross_entropy";
  c.config = ohem ? "ohem " + config : std::move(config);
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

void add_loss_grad_cases(std::vector<GradCase>& cases) {
  cases.push_back(ce_case("x[2,5,3,4] 20% ignored", {2, 5, 3, 4}, 0.2, {}, false, 0, 0, 2.0));
  cases.push_back(ce_case("x[3,4,3,3] weighted, ignored", {3, 4, 3, 3}, 0.25, {0.5, 2.0, 1.0, 3.5}, false, 0, 0, 2.0));
  cases.push_back(ce_case("x[2,3,5] (3-D logits)", {2, 3, 5}, 0.0, {}, false, 0, 0, 2.0));
  // OHEM where thresh 0.7 decides (min_kept small) and where min_kept does.
  cases.push_back(ce_case("x[2,3,4,5] thresh 0.7 min_kept 4", {2, 3, 4, 5}, 0.15, {}, true, 0.7, 4, 4.0));
  cases.push_back(ce_case("x[2,3,4,5] thresh 0.1 min_kept 20", {2, 3, 4, 5}, 0.15, {}, true, 0.1, 20, 4.0));
  cases.push_back(ce_case("x[2,4,3,4] weighted thresh 0.7", {2, 4, 3, 4}, 0.15, {1.0, 0.5, 2.0, 1.5}, true, 0.7, 3, 4.0));
}

}  // namespace pmsdsen::autograd
