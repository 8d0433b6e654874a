#include "models/graph_forward.h"

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "models/fused_model.h"
#include "models/pmsdsen.h"

namespace pmsdsen {

namespace {

std::unique_ptr<PMSDSEN> checked_copy(PMSDSEN& model, bool fused) {
  PMSDSEN_CHECK(model.device().is_cuda() && !model.is_training(),
                "CudaGraphForward: the model must be on CUDA and in evaluation mode");
  return fused ? fused_copy(model, Device::cuda()) : nullptr;
}

}  // namespace

CudaGraphForward::CudaGraphForward(PMSDSEN& model, bool fused)
    : fused_(checked_copy(model, fused)), model_(fused_ ? *fused_ : model), source_(model) {}

CudaGraphForward::~CudaGraphForward() = default;  // members in reverse order: the pool last

void CudaGraphForward::capture(const Tensor& x) {
  graph_.reset();
  input_ = Tensor();
  output_ = Tensor();
  pool_ = std::make_unique<CudaMemoryPool>();
  autograd::NoGradGuard no_grad;
  CudaMemoryPool::Use use(*pool_);
  input_ = Tensor::empty(x.shape(), DType::F32, x.device());
  input_.copy_(x);
  // Warm-up runs until one takes every block it asks for from the pool: the captured run
  // then makes the same choices and allocates nothing from the device (which a capture
  // refuses). The first run fills the pool; with the pool full, best fit can pick other
  // blocks than it did while the pool was filling, so a second run settles it.
  for (int run = 0;; ++run) {
    const size_t before = pool_->reserved_bytes();
    (void)model_.forward(input_);
    if (run > 0 && pool_->reserved_bytes() == before) break;
    PMSDSEN_CHECK(run < 4, "CudaGraphForward: the forward's allocations do not settle");
  }
  graph_ = std::make_unique<cuda::CapturedGraph>([&] { output_ = model_.forward(input_); });
  ++captures_;
}

Tensor CudaGraphForward::forward(const Tensor& x) {
  PMSDSEN_CHECK(x.defined() && x.dim() == 4 && x.dtype() == DType::F32 && x.device().is_cuda(),
                "CudaGraphForward: expected a float32 CUDA input [N, 3, H, W], got ",
                x.defined() ? x.str() : "nothing");
  PMSDSEN_CHECK(source_.device().is_cuda() && !source_.is_training(),
                "CudaGraphForward: the model left CUDA or evaluation mode");
  if (!graph_ || input_.shape() != x.shape()) capture(x);
  else input_.copy_(x);
  graph_->replay();
  return output_.clone();
}

}  // namespace pmsdsen
