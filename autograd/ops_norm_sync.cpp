// sync_batch_norm (autograd/ops_norm.h): batch normalisation's kernels, with the
// per-channel statistics merged across ranks on the host in between.
#include <cmath>
#include <vector>

#include "autograd/backend.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/ops_basic.h"
#include "autograd/ops_norm.h"

namespace pmsdsen::ops {

using autograd::data_or_null;
using autograd::GradList;
using autograd::Node;
using autograd::on_backend;

namespace {

// The whole batch's count, mean and sum of squared deviations per channel, from each
// rank's (Chan et al.'s pairwise merge, in rank order: identical on every rank).
struct Moments {
  double count = 0;
  std::vector<double> mean, m2;
};

Moments merge_across_ranks(const Moments& mine, comm::Communicator& comm) {
  const size_t C = mine.mean.size();
  std::vector<double> send(1 + 2 * C), all(send.size() * static_cast<size_t>(comm.size()));
  send[0] = mine.count;
  std::copy(mine.mean.begin(), mine.mean.end(), send.begin() + 1);
  std::copy(mine.m2.begin(), mine.m2.end(), send.begin() + 1 + static_cast<long>(C));
  comm.all_gather(send.data(), all.data(), static_cast<int64_t>(send.size() * sizeof(double)));
  Moments total;
  total.mean.assign(C, 0.0);
  total.m2.assign(C, 0.0);
  for (int r = 0; r < comm.size(); ++r) {
    const double* p = all.data() + static_cast<size_t>(r) * send.size();
    const double n = p[0], sum_n = total.count + n;
    for (size_t c = 0; c < C; ++c) {
      const double delta = p[1 + c] - total.mean[c];
      total.mean[c] += delta * n / sum_n;
      total.m2[c] += p[1 + C + c] + delta * delta * total.count * n / sum_n;
    }
    total.count = sum_n;
  }
  return total;
}

std::vector<double> host_values(const Tensor& t, int64_t C, double absent) {
  if (!t.defined()) return std::vector<double>(static_cast<size_t>(C), absent);
  return t.cpu().to(DType::F64).to_vector<double>();
}

Tensor from_host(const std::vector<double>& v, const Shape& shape, const Tensor& like) {
  return Tensor::from_vector(v, shape).to(like.dtype()).to(like.device());
}

}  // namespace

Tensor sync_batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor& running_mean,
                       Tensor& running_var, comm::Communicator& comm, double momentum, double eps) {
  check_defined(x, "sync_batch_norm", "x");
  check_floating(x, "sync_batch_norm", "x");
  PMSDSEN_CHECK(x.dim() >= 2 && x.numel() > 0, "sync_batch_norm: x must be a non-empty [N, C, ...], got ", x.str());
  const int64_t N = x.size(0), C = x.size(1), S = x.numel() / (N * C);
  for (const auto& [t, name] : {std::pair<const Tensor*, const char*>{&weight, "weight"}, {&bias, "bias"},
                                {&running_mean, "running_mean"}, {&running_var, "running_var"}}) {
    if (!t->defined()) continue;
    PMSDSEN_CHECK(t->device() == x.device() && t->dtype() == x.dtype() && t->dim() == 1 && t->size(0) == C,
                  "sync_batch_norm: '", name, "' must be a [", C, "] tensor like x ", x.str(), ", got ", t->str());
  }
  PMSDSEN_CHECK(running_mean.defined() == running_var.defined(),
                "sync_batch_norm: running_mean and running_var must both be given or both be absent");
  PMSDSEN_CHECK(eps > 0.0, "sync_batch_norm: eps must be positive, got ", eps);

  return on_backend(x, "sync_batch_norm", [&](auto b) {
    using B = decltype(b);
    using T = typename B::Scalar;
    Moments mine;
    mine.count = static_cast<double>(N * S);
    if (N * S == 1) {  // one value a channel (one image of a pooled [N, C, 1, 1]): itself
      mine.mean = x.cpu().to(DType::F64).to_vector<double>();
      mine.m2.assign(static_cast<size_t>(C), 0.0);
    } else {
      // The training-statistics kernel with momentum 1 leaves the mean and the unbiased
      // variance in the "running" buffers.
      Tensor local = Tensor::zeros({2, C}, x.dtype(), x.device());
      Tensor scratch = Tensor::empty({4, C}, x.dtype(), x.device());
      T* st = scratch.data<T>();
      T* lm = local.data<T>();
      B::batch_norm_train_stats(x.data<T>(), N, C, S, nullptr, nullptr, lm, lm + C, 1.0, eps, st, st + C,
                                st + 2 * C, st + 3 * C);
      const std::vector<double> lv = local.cpu().to(DType::F64).to_vector<double>();
      mine.mean.assign(lv.begin(), lv.begin() + C);
      mine.m2.resize(static_cast<size_t>(C));
      for (int64_t c = 0; c < C; ++c) mine.m2[c] = lv[C + c] * (mine.count - 1.0);
    }
    const Moments all = merge_across_ranks(mine, comm);
    // Checked on every rank alike, after the collective.
    PMSDSEN_CHECK(all.count > 1, "sync_batch_norm: expected more than 1 value per channel over all ranks, got x ",
                  shape_str(x.shape()), " on each of ", comm.size());

    // Rows: mean, invstd, scale, shift, as batch_norm's.
    const std::vector<double> w = host_values(weight, C, 1.0), bi = host_values(bias, C, 0.0);
    std::vector<double> st(4 * static_cast<size_t>(C));
    for (int64_t c = 0; c < C; ++c) {
      const double is = 1.0 / std::sqrt(all.m2[c] / all.count + eps);
      st[c] = all.mean[c];
      st[C + c] = is;
      st[2 * C + c] = w[c] * is;
      st[3 * C + c] = bi[c] - all.mean[c] * w[c] * is;
    }
    const Tensor stats = from_host(st, {4, C}, x);
    if (running_mean.defined()) {
      std::vector<double> rm = host_values(running_mean, C, 0.0), rv = host_values(running_var, C, 1.0);
      for (int64_t c = 0; c < C; ++c) {
        rm[c] = (1.0 - momentum) * rm[c] + momentum * all.mean[c];
        rv[c] = (1.0 - momentum) * rv[c] + momentum * all.m2[c] / (all.count - 1.0);
      }
      running_mean.copy_(from_host(rm, {C}, x));
      running_var.copy_(from_host(rv, {C}, x));
    }
    Tensor y = Tensor::empty_like(x);
    const T* sp = stats.data<T>();
    B::batch_norm_apply(x.data<T>(), sp + 2 * C, sp + 3 * C, y.data<T>(), N, C, S);

    if (!autograd::any_requires_grad({x, weight, bias})) return y;
    Tensor sx = x.detach(), sw = weight.defined() ? weight.detach() : Tensor();
    const double M = all.count;
    comm::Communicator* cp = &comm;
    return autograd::record(
        "sync_batch_norm", y, {x, weight, bias},
        [sx, sw, stats, N, C, S, M, cp](const Tensor& g, const Node& node) -> GradList {
          const T* st = stats.data<T>();
          // This rank's sum gy (as gbias) and sum gy (x - mean) * invstd (as gweight).
          Tensor sums = Tensor::empty({2, C}, sx.dtype(), sx.device());
          T* sp = sums.data<T>();
          B::batch_norm_backward(g.data<T>(), sx.data<T>(), st, st + C, nullptr, N, C, S, false, nullptr, sp + C, sp);
          Tensor gw = node.needs_grad(1) ? sums.narrow_batch(1, 1).view({C}).clone() : Tensor();
          Tensor gb = node.needs_grad(2) ? sums.narrow_batch(0, 1).view({C}).clone() : Tensor();
          if (!node.needs_grad(0)) return {Tensor(), gw, gb};
          // The whole batch's sums, then gx = a gy + k1 (x - mean) + k0 per channel.
          const std::vector<double> hs = sums.cpu().to(DType::F64).to_vector<double>();
          const std::vector<double> hst = stats.cpu().to(DType::F64).to_vector<double>();
          std::vector<double> total(2 * static_cast<size_t>(C));
          for (int64_t c = 0; c < C; ++c) {
            total[c] = hs[c];
            total[C + c] = hs[C + c] / hst[C + c];  // undo the invstd factor
          }
          cp->all_reduce(total.data(), 2 * C, DType::F64);
          std::vector<double> coef(2 * static_cast<size_t>(C));  // scale, shift of x
          for (int64_t c = 0; c < C; ++c) {
            const double is = hst[C + c], a = hst[2 * C + c];
            const double k1 = -a * is * is * total[C + c] / M, k0 = -a * total[c] / M;
            coef[c] = k1;
            coef[C + c] = k0 - k1 * hst[c];
          }
          const Tensor kc = from_host(coef, {2, C}, sx);
          Tensor ax = Tensor::empty_like(sx), agy = Tensor::empty_like(sx);
          const T* kp = kc.data<T>();
          B::batch_norm_apply(sx.data<T>(), kp, kp + C, ax.data<T>(), N, C, S);
          B::batch_norm_backward(g.data<T>(), sx.data<T>(), st, st + C, data_or_null<T>(sw), N, C, S, false,
                                 agy.data<T>(), nullptr, nullptr);
          return {ops::add(agy, ax), gw, gb};
        });
  });
}

}  // namespace pmsdsen::ops
