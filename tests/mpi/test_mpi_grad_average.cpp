// autograd/grad_average.h across ranks: the averaged gradient of each parameter equals
// the mean of the gradients each rank's shard gives alone (computed here, locally, for
// every rank's shard), with and without overlap, over several buckets, on both devices.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "autograd/engine.h"
#include "autograd/grad_average.h"
#include "autograd/ops_activation.h"
#include "autograd/ops_basic.h"
#include "core/device.h"

namespace pmsdsen {
namespace {

constexpr int64_t kIn = 6, kHidden = 10, kOut = 3, kShard = 4;

Tensor values(const Shape& shape, double phase, DType dtype, Device device) {
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.7 * static_cast<double>(i) + phase);
  return Tensor::from_vector(v, shape).to(dtype).to(device);
}

struct Net {
  std::vector<Tensor> params;
  Net(DType dtype, Device device) {
    params = {values({kHidden, kOut}, 0.4, dtype, device), values({kIn, kHidden}, 0.1, dtype, device),
              values({kHidden}, 0.2, dtype, device).view({1, kHidden}), values({kHidden, kOut}, 0.3, dtype, device)};
    for (Tensor& p : params) p.set_requires_grad(true);
  }
  // The first parameter is used by rank 0's shard only: the others have no gradient for it
  // (and its bucket, the last, starts there at finish()).
  Tensor loss(int shard, DType dtype, Device device) {
    const Tensor x = values({kShard, kIn}, 1.0 + shard, dtype, device);
    const Tensor ones = Tensor::ones({kShard, 1}, dtype, device);
    Tensor h = ops::gelu(ops::matmul(x, params[1]) + ops::matmul(ones, params[2]));
    Tensor y = ops::matmul(h, params[3]);
    if (shard == 0) y = y + ops::matmul(h, params[0]);
    return ops::mean(y * y);
  }
  std::vector<std::vector<double>> grads() const {
    std::vector<std::vector<double>> g;
    for (const Tensor& p : params)
      g.push_back(p.grad().defined() ? p.grad().cpu().to(DType::F64).to_vector<double>()
                                     : std::vector<double>(static_cast<size_t>(p.numel()), 0.0));
    return g;
  }
};

void expect_mean_of_shards(DType dtype, Device device, GradAverageOptions options, double tolerance) {
  comm::Communicator& w = comm::world();
  // What each shard gives alone, averaged.
  std::vector<std::vector<double>> expected;
  for (int r = 0; r < w.size(); ++r) {
    Net alone(dtype, device);
    backward(alone.loss(r, dtype, device));
    const auto g = alone.grads();
    if (expected.empty()) expected.assign(g.size(), {});
    for (size_t k = 0; k < g.size(); ++k) {
      expected[k].resize(g[k].size(), 0.0);
      for (size_t i = 0; i < g[k].size(); ++i) expected[k][i] += g[k][i] / w.size();
    }
  }
  Net net(dtype, device);
  GradAverager avg(net.params, w, options);
  for (int step = 0; step < 2; ++step) {  // the second pass reuses the buckets
    for (Tensor& p : net.params) p.set_grad(Tensor());
    avg.begin();
    backward(net.loss(w.rank(), dtype, device));
    avg.finish();
    const auto got = net.grads();
    for (size_t k = 0; k < got.size(); ++k)
      for (size_t i = 0; i < got[k].size(); ++i)
        ASSERT_NEAR(got[k][i], expected[k][i], tolerance * (1.0 + std::abs(expected[k][i])))
            << "parameter " << k << " element " << i << " step " << step;
    const int early = w.size() == 1 || !options.overlap ? 0 : w.rank() == 0 ? avg.bucket_count() : avg.bucket_count() - 1;
    EXPECT_EQ(avg.started_during_backward(), early);
  }
}

TEST(MpiGradAverage, MeanOfShardsWithOverlapOverSeveralBuckets) {
  GradAverageOptions o;
  o.bucket_bytes = 300;  // 37 float64: one bucket a parameter
  expect_mean_of_shards(DType::F64, Device::cpu(), o, 1e-12);
  GradAverager probe(Net(DType::F64, Device::cpu()).params, comm::world(), o);
  EXPECT_EQ(probe.bucket_count(), 4);
}

TEST(MpiGradAverage, MeanOfShardsWithoutOverlapInOneBucket) {
  GradAverageOptions o;
  o.overlap = false;
  expect_mean_of_shards(DType::F32, Device::cpu(), o, 1e-6);
}

TEST(MpiGradAverage, MeanOfShardsOnCuda) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  GradAverageOptions o;
  o.bucket_bytes = 200;
  expect_mean_of_shards(DType::F32, Device::cuda(), o, 1e-5);
}

}  // namespace
}  // namespace pmsdsen
