// sync_batch_norm across ranks against batch_norm in one process over the concatenated
// batch: the same output and running statistics, the same input gradient for each
// shard, and weight/bias gradients whose sum over ranks is the whole batch's. Every
// rank computes the one-process reference itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "autograd/engine.h"
#include "autograd/ops_basic.h"
#include "autograd/ops_norm.h"
#include "core/device.h"

namespace pmsdsen {
namespace {

constexpr int64_t kPerRank = 2, kC = 5, kH = 6, kW = 7;

// Image n of the global batch: each image has its own offset and spread, so the ranks'
// own statistics differ from the whole batch's.
std::vector<double> image_values(int64_t n) {
  std::vector<double> v(static_cast<size_t>(kC * kH * kW));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = 0.5 * static_cast<double>(n) + (1.0 + 0.3 * static_cast<double>(n)) * std::sin(0.37 * static_cast<double>(i) + n);
  return v;
}

Tensor batch(int64_t first, int64_t count, DType dtype, Device device) {
  std::vector<double> v;
  for (int64_t n = first; n < first + count; ++n) {
    const auto img = image_values(n);
    v.insert(v.end(), img.begin(), img.end());
  }
  return Tensor::from_vector(v, {count, kC, kH, kW}).to(dtype).to(device);
}

Tensor channel_values(double phase, DType dtype, Device device) {
  std::vector<double> v(kC);
  for (int64_t c = 0; c < kC; ++c) v[c] = 1.0 + 0.2 * std::sin(c + phase);
  return Tensor::from_vector(v, {kC}).to(dtype).to(device);
}

std::vector<double> host(const Tensor& t) { return t.cpu().to(DType::F64).to_vector<double>(); }

void expect_close(const std::vector<double>& got, const std::vector<double>& want, double tol, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tol * (1.0 + std::abs(want[i]))) << what << " element " << i;
}

struct Result {
  std::vector<double> y, gx, gw, gb, rm, rv;
};

// Loss sum(y * r): additive over images, so the shards' losses sum to the whole batch's.
Result run(int64_t first, int64_t count, comm::Communicator* comm, DType dtype, Device device) {
  Tensor x = batch(first, count, dtype, device).set_requires_grad(true);
  Tensor w = channel_values(0.0, dtype, device).set_requires_grad(true);
  Tensor b = channel_values(1.0, dtype, device).set_requires_grad(true);
  Tensor rm = Tensor::zeros({kC}, dtype, device), rv = Tensor::ones({kC}, dtype, device);
  Tensor y = comm ? ops::sync_batch_norm(x, w, b, rm, rv, *comm) : ops::batch_norm(x, w, b, rm, rv, true);
  const Tensor r = batch(first + 100, count, dtype, device);
  backward(ops::sum(y * r));
  return {host(y), host(x.grad()), host(w.grad()), host(b.grad()), host(rm), host(rv)};
}

std::vector<double> shard_of(const std::vector<double>& whole, int rank) {
  const size_t per = static_cast<size_t>(kPerRank * kC * kH * kW);
  return std::vector<double>(whole.begin() + static_cast<long>(per * rank),
                             whole.begin() + static_cast<long>(per * (rank + 1)));
}

std::vector<double> shard_of_rows(const std::vector<double>& whole, comm::Communicator& w) {
  const size_t per = whole.size() / static_cast<size_t>(w.size());
  return std::vector<double>(whole.begin() + static_cast<long>(per * w.rank()),
                             whole.begin() + static_cast<long>(per * (w.rank() + 1)));
}

void expect_matches_one_process(DType dtype, Device device, double tol) {
  comm::Communicator& w = comm::world();
  const Result one = run(0, kPerRank * w.size(), nullptr, dtype, device);
  const Result mine = run(kPerRank * w.rank(), kPerRank, &w, dtype, device);
  expect_close(mine.y, shard_of(one.y, w.rank()), tol, "y");
  expect_close(mine.gx, shard_of(one.gx, w.rank()), tol, "x gradient");
  expect_close(mine.rm, one.rm, tol, "running_mean");
  expect_close(mine.rv, one.rv, tol, "running_var");
  std::vector<double> gw = mine.gw, gb = mine.gb;
  comm::all_reduce(w, gw.data(), kC);
  comm::all_reduce(w, gb.data(), kC);
  expect_close(gw, one.gw, tol, "weight gradient summed over ranks");
  expect_close(gb, one.gb, tol, "bias gradient summed over ranks");
  if (w.size() > 1) {  // the check can fail: the shard's own statistics differ
    const Result alone = run(kPerRank * w.rank(), kPerRank, nullptr, dtype, device);
    double diff = 0;
    for (size_t i = 0; i < alone.y.size(); ++i) diff = std::max(diff, std::abs(alone.y[i] - mine.y[i]));
    EXPECT_GT(diff, 0.1);
  }
}

TEST(MpiSyncBatchNorm, MatchesOneProcessOverTheConcatenatedBatchInFloat64) {
  expect_matches_one_process(DType::F64, Device::cpu(), 1e-10);
}

TEST(MpiSyncBatchNorm, MatchesOneProcessInFloat32) { expect_matches_one_process(DType::F32, Device::cpu(), 2e-5); }

TEST(MpiSyncBatchNorm, MatchesOneProcessOnCuda) {
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  expect_matches_one_process(DType::F32, Device::cuda(), 2e-5);
}

// A pooled [1, C, 1, 1] a rank (DWFF's batch norm with one image a rank): one value a
// channel here, several over the ranks.
TEST(MpiSyncBatchNorm, OneValueAChannelARankIsEnoughTogether) {
  comm::Communicator& w = comm::world();
  std::vector<double> all(static_cast<size_t>(kC * w.size()));
  for (size_t i = 0; i < all.size(); ++i) all[i] = std::cos(1.3 * static_cast<double>(i));
  const Tensor whole = Tensor::from_vector(all, {w.size(), kC, 1, 1});
  Tensor rm1, rv1, rm2, rv2;
  if (w.size() == 1) {
    try {
      ops::sync_batch_norm(whole, Tensor(), Tensor(), rm1, rv1, w);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("sync_batch_norm: expected more than 1 value per channel over all ranks"),
                std::string::npos)
          << e.what();
    }
    return;
  }
  const std::vector<double> want = shard_of_rows(host(ops::batch_norm(whole, Tensor(), Tensor(), rm1, rv1, true)), w);
  const Tensor mine = whole.narrow_batch(w.rank(), 1).clone();
  expect_close(host(ops::sync_batch_norm(mine, Tensor(), Tensor(), rm2, rv2, w)), want, 1e-10, "y");
}

}  // namespace
}  // namespace pmsdsen
