// The CUDA inference path: a private memory pool whose blocks no other tensor gets, and
// PMSDSEN's evaluation forward captured as one CUDA graph (models/graph_forward.h):
// unfused, equal to the eager forward bit for bit, for new inputs, new shapes and with
// other work between replays; fused (the default), within 1e-4 with the same classes and
// fewer kernels. Runs on the emulated GPU in CI.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "autograd/grad_mode.h"
#include "core/allocator.h"
#include "models/graph_forward.h"
#include "models/predict.h"
#include "tests/test_plan_util.h"
#include "tests/test_util.h"

namespace pmsdsen {
namespace {

TEST(CudaMemoryPoolCuda, ItsBlocksGoToNoOtherTensor) {
  PMSDSEN_REQUIRE_CUDA();
  const MemoryStats before = memory_stats(Device::cuda());
  Tensor kept;
  const void* freed_in_pool = nullptr;
  {
    auto pool = std::make_unique<CudaMemoryPool>();
    {
      CudaMemoryPool::Use use(*pool);
      Tensor a = Tensor::zeros({1000}, DType::F32, Device::cuda());
      freed_in_pool = a.raw_data();
      kept = Tensor::full({77}, 2.5, DType::F32, Device::cuda());
      EXPECT_THROW({ CudaMemoryPool::Use second(*pool); }, Error);  // one pool at a time
    }
    EXPECT_GE(pool->reserved_bytes(), 1000 * sizeof(float) + 77 * sizeof(float));
    // A tensor of the freed block's size, made outside the pool, gets another block.
    const Tensor b = Tensor::zeros({1000}, DType::F32, Device::cuda());
    EXPECT_NE(b.raw_data(), freed_in_pool);
    {
      CudaMemoryPool::Use use(*pool);
      const Tensor c = Tensor::zeros({1000}, DType::F32, Device::cuda());
      EXPECT_EQ(c.raw_data(), freed_in_pool);  // the pool hands its own block out again
    }
  }
  // A pool block still held when the pool went stays valid and is freed to the shared cache.
  EXPECT_EQ(kept.cpu().to_vector<float>(), std::vector<float>(77, 2.5f));
  kept = Tensor();
  EXPECT_EQ(memory_stats(Device::cuda()).current_bytes, before.current_bytes);
}

TEST(GraphForwardCuda, EqualsTheEagerForwardForNewInputsAndShapes) {
  PMSDSEN_REQUIRE_CUDA();
  std::unique_ptr<PMSDSEN> model = test::trained_looking_model(Activation::PReLU, 7, 5);
  model->to(Device::cuda());
  Generator gen(9);
  const Tensor x1 = test::random_tensor({2, 3, 40, 56}, gen, DType::F32).to(Device::cuda());
  const Tensor x2 = test::random_tensor({2, 3, 40, 56}, gen, DType::F32).to(Device::cuda());
  const Tensor x3 = test::random_tensor({1, 3, 24, 32}, gen, DType::F32).to(Device::cuda());
  std::vector<float> eager1, eager2, eager3;
  {
    autograd::NoGradGuard no_grad;
    eager1 = model->forward(x1).cpu().to_vector<float>();
    eager2 = model->forward(x2).cpu().to_vector<float>();
    eager3 = model->forward(x3).cpu().to_vector<float>();
  }
  CudaGraphForward graph(*model, false);
  EXPECT_FALSE(graph.fused());
  EXPECT_EQ(graph.forward(x1).cpu().to_vector<float>(), eager1);
  EXPECT_EQ(graph.captures(), 1);
  EXPECT_GT(graph.graph_nodes(), 50u);  // the whole network, one graph
  // Other tensors made and written between replays neither disturb the graph nor are
  // overwritten by it.
  std::vector<Tensor> others;
  for (int64_t n : {2 * 7 * 40 * 56, 2 * 16 * 20 * 28, 4096}) others.push_back(Tensor::full({n}, -3.0, DType::F32, Device::cuda()));
  EXPECT_EQ(graph.forward(x2).cpu().to_vector<float>(), eager2);
  EXPECT_EQ(graph.forward(x1).cpu().to_vector<float>(), eager1);
  for (const Tensor& t : others) EXPECT_EQ(t.cpu().to_vector<float>(), std::vector<float>(t.numel(), -3.0f));
  EXPECT_EQ(graph.captures(), 1);
  EXPECT_EQ(graph.forward(x3).cpu().to_vector<float>(), eager3);  // a new shape: captured again
  EXPECT_EQ(graph.captures(), 2);
  model->train();
  EXPECT_THROW(graph.forward(x3), Error);
}

TEST(GraphForwardCuda, PredictorOnCudaRunsTheGraph) {
  PMSDSEN_REQUIRE_CUDA();
  std::unique_ptr<PMSDSEN> model = test::trained_looking_model(Activation::GELU, 5, 8);
  model->to(Device::cuda());
  const Predictor graph(*model), eager(*model, false);
  EXPECT_STREQ(graph.engine(), "cuda_graph");
  EXPECT_STREQ(eager.engine(), "eager");
  Generator gen(2);
  const Tensor image = test::random_tensor({1, 3, 29, 43}, gen, DType::F32);  // padded to 32x48
  const Tensor got = graph.logits(image), ref = eager.logits(image);
  EXPECT_LT(test::max_rel_diff(got, ref), 1e-4);
  const test::ClassAgreement a = test::class_agreement(got.cpu(), ref.cpu(), 1e-3);
  EXPECT_GT(a.compared, a.pixels / 2);
  EXPECT_EQ(a.disagree, 0) << "of " << a.compared << " pixels";
}

TEST(GraphForwardCuda, FusedGraphMatchesEagerWithFewerKernels) {
  PMSDSEN_REQUIRE_CUDA();
  for (Activation act : {Activation::GELU, Activation::PReLU}) {
    std::unique_ptr<PMSDSEN> model = test::trained_looking_model(act, 19, 12);
    model->to(Device::cuda());
    Generator gen(13);
    const Tensor x = test::random_tensor({2, 3, 24, 40}, gen, DType::F32).to(Device::cuda());
    Tensor ref;
    {
      autograd::NoGradGuard no_grad;
      ref = model->forward(x);
    }
    CudaGraphForward fused(*model), unfused(*model, false);
    EXPECT_TRUE(fused.fused());
    const Tensor got = fused.forward(x);
    EXPECT_LT(test::max_rel_diff(got, ref), 1e-4);
    const test::ClassAgreement a = test::class_agreement(got.cpu(), ref.cpu(), 1e-3);
    EXPECT_EQ(a.disagree, 0) << "of " << a.compared << " pixels";
    EXPECT_EQ(unfused.forward(x).cpu().to_vector<float>(), ref.cpu().to_vector<float>());
    // Each fused pass is a kernel fewer in the graph (counts recorded in bench/RESULTS.md).
    EXPECT_LT(fused.graph_nodes() * 10, unfused.graph_nodes() * 8)
        << fused.graph_nodes() << " nodes fused, " << unfused.graph_nodes() << " unfused";
    std::printf("graph nodes (%s): fused %zu, unfused %zu\n", activation_name(act).c_str(), fused.graph_nodes(),
                unfused.graph_nodes());
  }
}

}  // namespace
}  // namespace pmsdsen
