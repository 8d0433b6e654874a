// cuDNN baselines for batch norm, activations and pooling (legacy API, deprecated in
// cuDNN 9 but present; the v9 graph API is not needed for these single ops).
#ifdef PMSDSEN_WITH_CUDNN
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench/cudnn_baselines.h"
#include "bench/cudnn_util.h"
#include "bench/timer.h"

namespace pmsdsen::bench {
namespace {

using namespace cudnn;

const Tensor& at(const Tensors& t, int i) {
  PMSDSEN_CHECK(i >= 0 && static_cast<size_t>(i) < t.size(), "cuDNN baseline: no tensor at slot ", i);
  return t[static_cast<size_t>(i)];
}

TensorDesc* desc4(const Tensor& t) {
  PMSDSEN_CHECK(t.dim() == 4, "cuDNN baseline: expected a 4-D tensor, got ", t.str());
  return new TensorDesc(t);
}

// The faster of several ways to run the same op (e.g. two batch-norm modes), by a short
// timing over the first sets; a way cuDNN refuses is left out. Returns its index; throws
// (with cuDNN's reason) when every way is refused.
int faster(const std::vector<RunFn>& candidates) {
  TimerOptions o;
  o.warmup_reps = 2;
  o.warmup_ms = 0;
  o.fixed_reps = 10;
  int best = -1;
  double best_ms = 0;
  std::string refused;
  for (size_t i = 0; i < candidates.size(); ++i) {
    try {
      const double ms = time_reps(Device::cuda(), candidates[i], o).median;
      if (best < 0 || ms < best_ms) {
        best = static_cast<int>(i);
        best_ms = ms;
      }
    } catch (const Error& e) {
      refused += (refused.empty() ? "" : "; ") + std::string(e.what());
    }
  }
  PMSDSEN_CHECK(best >= 0, "cuDNN refused every mode: ", refused);
  return best;
}

struct BnState {
  std::unique_ptr<TensorDesc> x, param;
  cudnnBatchNormMode_t mode = CUDNN_BATCHNORM_SPATIAL;
};

const char* bn_mode_name(cudnnBatchNormMode_t m) {
  return m == CUDNN_BATCHNORM_SPATIAL_PERSISTENT ? "SPATIAL_PERSISTENT" : "SPATIAL";
}

// Descriptors for x [N, C, H, W] (first set) and the per-channel parameters.
std::shared_ptr<BnState> bn_state(const SharedBuffers& buffers, int x_slot) {
  auto st = std::make_shared<BnState>();
  const Tensor& x0 = at(buffers->set(0), x_slot);
  st->x.reset(desc4(x0));
  st->param = std::make_unique<TensorDesc>(1, x0.size(1), 1, 1);
  handle();
  return st;
}

// The baseline runs `api` in whichever batch-norm mode is faster on these buffers.
Baseline faster_bn_mode(const char* api, const std::function<RunFn(cudnnBatchNormMode_t)>& run_mode,
                        const std::shared_ptr<BnState>& st, std::vector<int> compare) {
  const std::vector<cudnnBatchNormMode_t> modes = {CUDNN_BATCHNORM_SPATIAL, CUDNN_BATCHNORM_SPATIAL_PERSISTENT};
  std::vector<RunFn> runs;
  for (auto m : modes) runs.push_back(run_mode(m));
  st->mode = modes[static_cast<size_t>(faster(runs))];
  Baseline b;
  b.name = str(api, " ", bn_mode_name(st->mode), " (faster of 2 modes)");
  b.run = run_mode(st->mode);
  b.compare = std::move(compare);
  b.state = st;
  return b;
}

}  // namespace

Baseline cudnn_batch_norm_forward(const SharedBuffers& buffers, BatchNormSlots s, double momentum, double eps) {
  const auto st = bn_state(buffers, s.x);
  auto run_mode = [buffers, s, momentum, eps, st](cudnnBatchNormMode_t mode) -> RunFn {
    return [buffers, s, momentum, eps, st, mode](int64_t set) {
      const Tensors& t = buffers->set(set);
      const float one = 1.0f, zero = 0.0f;
      PMSDSEN_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
          handle(), mode, &one, &zero, st->x->get(), ptr(at(t, s.x)), st->x->get(), ptr(at(t, s.y)),
          st->param->get(), ptr(at(t, s.weight)), ptr(at(t, s.bias)), momentum, ptr(at(t, s.running_mean)),
          ptr(at(t, s.running_var)), eps, ptr(at(t, s.save_mean)), ptr(at(t, s.save_invstd))));
    };
  };
  return faster_bn_mode("cudnnBatchNormalizationForwardTraining", run_mode, st, {s.y});
}

Baseline cudnn_batch_norm_backward(const SharedBuffers& buffers, BatchNormSlots s, double eps) {
  const auto st = bn_state(buffers, s.x);
  auto run_mode = [buffers, s, eps, st](cudnnBatchNormMode_t mode) -> RunFn {
    return [buffers, s, eps, st, mode](int64_t set) {
      const Tensors& t = buffers->set(set);
      const float one = 1.0f, zero = 0.0f;
      PMSDSEN_CUDNN_CHECK(cudnnBatchNormalizationBackward(
          handle(), mode, &one, &zero, &one, &zero, st->x->get(), ptr(at(t, s.x)), st->x->get(),
          ptr(at(t, s.gy)), st->x->get(), ptr(at(t, s.gx)), st->param->get(), ptr(at(t, s.weight)),
          ptr(at(t, s.gweight)), ptr(at(t, s.gbias)), eps, ptr(at(t, s.save_mean)), ptr(at(t, s.save_invstd))));
    };
  };
  return faster_bn_mode("cudnnBatchNormalizationBackward", run_mode, st, {s.gx, s.gweight, s.gbias});
}

Baseline cudnn_swish_stand_in(const SharedBuffers& buffers, bool backward, int x, int y, int gy, int gx) {
  struct State {
    std::unique_ptr<TensorDesc> d;
    std::unique_ptr<ActivationDesc> act;
  };
  auto st = std::make_shared<State>();
  const Tensor& x0 = at(buffers->set(0), x);
  st->d.reset(desc4(x0));
  st->act = std::make_unique<ActivationDesc>(CUDNN_ACTIVATION_SWISH, 1.0);
  handle();
  Baseline b;
  b.same_function = false;
  b.note = "stand-in: cuDNN's activations have no GELU; swish (x*sigmoid(x)) is timed instead, not compared";
  b.state = st;
  if (!backward) {
    b.name = "cudnnActivationForward SWISH";
    b.compare = {y};
    b.run = [buffers, st, x, y](int64_t set) {
      const Tensors& t = buffers->set(set);
      const float one = 1.0f, zero = 0.0f;
      PMSDSEN_CUDNN_CHECK(cudnnActivationForward(handle(), st->act->get(), &one, st->d->get(), ptr(at(t, x)),
                                                 &zero, st->d->get(), ptr(at(t, y))));
    };
  } else {
    b.name = "cudnnActivationBackward SWISH";
    b.compare = {gx};
    b.run = [buffers, st, x, y, gy, gx](int64_t set) {
      const Tensors& t = buffers->set(set);
      const float one = 1.0f, zero = 0.0f;
      PMSDSEN_CUDNN_CHECK(cudnnActivationBackward(handle(), st->act->get(), &one, st->d->get(), ptr(at(t, y)),
                                                  st->d->get(), ptr(at(t, gy)), st->d->get(), ptr(at(t, x)),
                                                  &zero, st->d->get(), ptr(at(t, gx))));
    };
  }
  return b;
}

namespace {

struct PoolState {
  std::unique_ptr<TensorDesc> x, y;
  std::unique_ptr<PoolDesc> pool;
};

Baseline pool_baseline(const SharedBuffers& buffers, cudnnPoolingMode_t mode, int64_t kh, int64_t kw,
                       int64_t stride, int64_t pad, bool backward, PoolSlots s, const std::string& label) {
  auto st = std::make_shared<PoolState>();
  const Tensors& t0 = buffers->set(0);
  const Tensor& x0 = at(t0, s.x);
  const Tensor& y0 = at(t0, s.y);
  st->x.reset(desc4(x0));
  st->y.reset(desc4(y0));
  st->pool = std::make_unique<PoolDesc>(mode, kh, kw, pad, stride);
  int n = 0, c = 0, h = 0, w = 0;
  PMSDSEN_CUDNN_CHECK(cudnnGetPooling2dForwardOutputDim(st->pool->get(), st->x->get(), &n, &c, &h, &w));
  PMSDSEN_CHECK(n == y0.size(0) && c == y0.size(1) && h == y0.size(2) && w == y0.size(3),
                "cuDNN pooling baseline: cuDNN computes ", n, "x", c, "x", h, "x", w, ", the benchmark has ",
                y0.str());
  handle();
  Baseline b;
  b.state = st;
  if (!backward) {
    b.name = "cudnnPoolingForward " + label;
    b.compare = {s.y};
    b.run = [buffers, st, s](int64_t set) {
      const Tensors& t = buffers->set(set);
      const float one = 1.0f, zero = 0.0f;
      PMSDSEN_CUDNN_CHECK(cudnnPoolingForward(handle(), st->pool->get(), &one, st->x->get(), ptr(at(t, s.x)),
                                              &zero, st->y->get(), ptr(at(t, s.y))));
    };
  } else {
    b.name = "cudnnPoolingBackward " + label;
    b.compare = {s.gx};
    b.run = [buffers, st, s](int64_t set) {
      const Tensors& t = buffers->set(set);
      const float one = 1.0f, zero = 0.0f;
      PMSDSEN_CUDNN_CHECK(cudnnPoolingBackward(handle(), st->pool->get(), &one, st->y->get(), ptr(at(t, s.y)),
                                               st->y->get(), ptr(at(t, s.gy)), st->x->get(), ptr(at(t, s.x)),
                                               &zero, st->x->get(), ptr(at(t, s.gx))));
    };
  }
  return b;
}

}  // namespace

Baseline cudnn_pool(const SharedBuffers& buffers, PoolKind kind, int64_t k, int64_t stride, int64_t pad,
                    bool backward, PoolSlots slots) {
  const bool avg = kind == PoolKind::Average;
  return pool_baseline(buffers,
                       avg ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING : CUDNN_POOLING_MAX_DETERMINISTIC, k,
                       k, stride, pad, backward, slots,
                       avg ? "AVERAGE_COUNT_INCLUDE_PADDING" : "MAX_DETERMINISTIC");
}

Baseline cudnn_global_avg_pool(const SharedBuffers& buffers, bool backward, PoolSlots s) {
  const Tensor& x0 = at(buffers->set(0), s.x);
  PMSDSEN_CHECK(x0.dim() == 4, "cuDNN global pooling baseline: expected a 4-D input, got ", x0.str());
  if (backward)
    return pool_baseline(buffers, CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING, x0.size(2), x0.size(3), 1, 0,
                         true, s, "AVERAGE over the whole plane");
  struct State {
    std::unique_ptr<TensorDesc> x, y;
    cudnnReduceTensorDescriptor_t reduce = nullptr;
    std::unique_ptr<Workspace> ws;
    ~State() {
      if (reduce) cudnnDestroyReduceTensorDescriptor(reduce);
    }
  };
  auto st = std::make_shared<State>();
  st->x.reset(desc4(x0));
  st->y = std::make_unique<TensorDesc>(x0.size(0), x0.size(1), 1, 1);
  PMSDSEN_CUDNN_CHECK(cudnnCreateReduceTensorDescriptor(&st->reduce));
  PMSDSEN_CUDNN_CHECK(cudnnSetReduceTensorDescriptor(st->reduce, CUDNN_REDUCE_TENSOR_AVG, CUDNN_DATA_FLOAT,
                                                     CUDNN_PROPAGATE_NAN, CUDNN_REDUCE_TENSOR_NO_INDICES,
                                                     CUDNN_32BIT_INDICES));
  size_t ws = 0;
  PMSDSEN_CUDNN_CHECK(cudnnGetReductionWorkspaceSize(handle(), st->reduce, st->x->get(), st->y->get(), &ws));
  st->ws = std::make_unique<Workspace>(ws);
  const Tensor& y0 = at(buffers->set(0), s.y);
  PMSDSEN_CHECK(y0.numel() == x0.size(0) * x0.size(1), "cuDNN global pooling baseline: output is ", y0.str());
  Baseline b;
  b.name = "cudnnReduceTensor AVG";
  b.compare = {s.y};
  b.state = st;
  b.run = [buffers, st, s](int64_t set) {
    const Tensors& t = buffers->set(set);
    const float one = 1.0f, zero = 0.0f;
    PMSDSEN_CUDNN_CHECK(cudnnReduceTensor(handle(), st->reduce, nullptr, 0, st->ws->get(), st->ws->bytes(), &one,
                                          st->x->get(), ptr(at(t, s.x)), &zero, st->y->get(), ptr(at(t, s.y))));
  };
  return b;
}

}  // namespace pmsdsen::bench
#endif  // PMSDSEN_WITH_CUDNN
