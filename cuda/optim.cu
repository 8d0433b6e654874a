#include "cuda/optim.h"

#include <cstring>

#include "core/allocator.h"
#include "cuda/launch.cuh"

namespace pmsdsen::cuda {
namespace {

constexpr int64_t kChunk = 8192;  // elements per block

// Block b updates chunk b of the concatenation of all tensors' chunks: chunk_start[s] is
// the first chunk of slot s (a prefix sum), found by binary search.
__global__ void __launch_bounds__(kThreads)
sgd_kernel(const SgdSlot* __restrict__ slots, const int64_t* __restrict__ chunk_start, int count, float lr,
           float momentum, float weight_decay) {
  const int64_t chunk = blockIdx.x;
  int lo = 0, hi = count - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (chunk_start[mid] <= chunk) lo = mid;
    else hi = mid - 1;
  }
  const SgdSlot s = slots[lo];
  const int64_t begin = (chunk - chunk_start[lo]) * kChunk;
  const int64_t end = begin + kChunk < s.numel ? begin + kChunk : s.numel;
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    const float p = s.param[i];
    const float d = s.grad[i] + weight_decay * p;
    float step = d;
    if (s.buf) {
      step = s.first_step ? d : momentum * s.buf[i] + d;
      s.buf[i] = step;
    }
    s.param[i] = p - lr * step;
  }
}

}  // namespace

struct FusedSgd::State {
  std::vector<char> table;     // this step's table: slots, then chunk_start
  std::vector<char> uploaded;  // the table now in device memory
  void* device = nullptr;
  size_t device_bytes = 0;
  void* pinned = nullptr;
  size_t pinned_bytes = 0;
  cudaEvent_t copied = nullptr;  // the last upload has left the pinned buffer
  int64_t uploads = 0;
};

FusedSgd::FusedSgd() : state_(std::make_unique<State>()) {
  PMSDSEN_CUDA_CHECK(cudaEventCreateWithFlags(&state_->copied, cudaEventDisableTiming));
}

FusedSgd::~FusedSgd() {
  // No throwing here; errors at teardown are ignored.
  if (state_->copied) {
    cudaEventSynchronize(state_->copied);
    cudaEventDestroy(state_->copied);
  }
  if (state_->pinned) cudaFreeHost(state_->pinned);
  if (state_->device) deallocate(state_->device, state_->device_bytes, Device::cuda());
}

int64_t FusedSgd::uploads() const { return state_->uploads; }

void FusedSgd::step(const std::vector<SgdSlot>& slots, double lr, double momentum, double weight_decay) {
  std::vector<SgdSlot> live;
  for (const SgdSlot& s : slots)
    if (s.numel > 0) live.push_back(s);
  if (live.empty()) return;
  const int count = static_cast<int>(live.size());
  std::vector<int64_t> chunk_start(live.size() + 1, 0);
  for (size_t i = 0; i < live.size(); ++i)
    chunk_start[i + 1] = chunk_start[i] + (live[i].numel + kChunk - 1) / kChunk;
  const int64_t chunks = chunk_start.back();
  PMSDSEN_CHECK(chunks <= 0x7fffffff, "sgd: ", chunks, " chunks exceed the CUDA grid limit");

  State& st = *state_;
  const size_t slot_bytes = live.size() * sizeof(SgdSlot);
  const size_t bytes = slot_bytes + chunk_start.size() * sizeof(int64_t);
  st.table.resize(bytes);
  std::memcpy(st.table.data(), live.data(), slot_bytes);
  std::memcpy(st.table.data() + slot_bytes, chunk_start.data(), chunk_start.size() * sizeof(int64_t));

  if (st.table != st.uploaded) {
    PMSDSEN_CUDA_CHECK(cudaEventSynchronize(st.copied));  // the pinned buffer is free again
    if (st.pinned_bytes < bytes) {
      if (st.pinned) PMSDSEN_CUDA_CHECK(cudaFreeHost(st.pinned));
      st.pinned = nullptr;
      st.pinned_bytes = 0;  // consistent if the allocation below throws
      PMSDSEN_CUDA_CHECK(cudaMallocHost(&st.pinned, bytes));
      st.pinned_bytes = bytes;
    }
    if (st.device_bytes < bytes) {
      // Stream-ordered allocator: kernels queued on the old table run before its reuse.
      if (st.device) deallocate(st.device, st.device_bytes, Device::cuda());
      st.device = nullptr;
      st.device_bytes = 0;
      st.device = allocate(bytes, Device::cuda());
      st.device_bytes = bytes;
    }
    std::memcpy(st.pinned, st.table.data(), bytes);
    PMSDSEN_CUDA_CHECK(cudaMemcpyAsync(st.device, st.pinned, bytes, cudaMemcpyHostToDevice, cuda_env::stream()));
    PMSDSEN_CUDA_CHECK(cudaEventRecord(st.copied, cuda_env::stream()));
    st.uploaded = st.table;
    ++st.uploads;
  }
  const SgdSlot* d_slots = static_cast<const SgdSlot*>(st.device);
  const int64_t* d_chunk_start = reinterpret_cast<const int64_t*>(static_cast<const char*>(st.device) + slot_bytes);
  PMSDSEN_LAUNCH(sgd_kernel, static_cast<unsigned>(chunks), kThreads, 0)(d_slots, d_chunk_start, count,
      static_cast<float>(lr), static_cast<float>(momentum), static_cast<float>(weight_decay));
}

}  // namespace pmsdsen::cuda
