// cuda/nccl_comm.h across the ranks (the real NCCL in the CUDA build, the emulated GPU's
// stand-in over MPI in the emulated one): sums, maxima and a broadcast of device memory.
#include <gtest/gtest.h>

#include <vector>

#include "core/device.h"
#include "core/tensor.h"

#ifdef PMSDSEN_WITH_NCCL
#include "cuda/nccl_comm.h"
#endif

namespace pmsdsen {
namespace {

TEST(MpiNccl, AllReduceAndBroadcastOfDeviceMemory) {
#ifndef PMSDSEN_WITH_NCCL
  GTEST_SKIP() << "built without NCCL";
#else
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device";
  comm::Communicator& w = comm::world();
  cuda::NcclComm& nccl = cuda::nccl_for(w);
  EXPECT_EQ(&nccl, &cuda::nccl_for(w));  // one a communicator
  EXPECT_EQ(nccl.rank(), w.rank());
  EXPECT_EQ(nccl.size(), w.size());
  EXPECT_EQ(cuda::nccl_version().rfind("NCCL ", 0), 0u) << cuda::nccl_version();
  const int r = w.rank(), n = w.size();
  Tensor sum = Tensor::from_vector<float>({1.f + r, -2.f * r, 0.5f}, {3}).to(Device::cuda());
  nccl.all_reduce(sum.raw_data(), 3, DType::F32);
  EXPECT_EQ(sum.cpu().to_vector<float>(), (std::vector<float>{n + n * (n - 1) / 2.f, -1.f * n * (n - 1), 0.5f * n}));
  Tensor mx = Tensor::from_vector<int64_t>({r, -r}, {2}).to(Device::cuda());
  nccl.all_reduce(mx.raw_data(), 2, DType::I64, comm::ReduceOp::Max);
  EXPECT_EQ(mx.cpu().to_vector<int64_t>(), (std::vector<int64_t>{n - 1, 0}));
  Tensor b = Tensor::full({4}, r == n - 1 ? 7.0 : 0.0, DType::F64, Device::cuda());
  nccl.broadcast(b.raw_data(), 4 * 8, n - 1);
  EXPECT_EQ(b.cpu().to_vector<double>(), (std::vector<double>{7, 7, 7, 7}));
#endif
}

}  // namespace
}  // namespace pmsdsen
