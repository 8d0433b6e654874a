#include "cuda/graph.h"

#include <string>

#include "core/error.h"

#ifdef PMSDSEN_WITH_CUDA
#include "core/cuda_env.h"
#endif

namespace pmsdsen::cuda {

#ifdef PMSDSEN_WITH_CUDA
struct CapturedGraph::State {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  size_t nodes = 0;
};

CapturedGraph::CapturedGraph(const std::function<void()>& fn) : state_(std::make_unique<State>()) {
  cudaStream_t s = cuda_env::stream();
  PMSDSEN_CUDA_CHECK(cudaStreamSynchronize(s));
  PMSDSEN_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeGlobal));
  std::string failure;
  try {
    fn();
  } catch (const std::exception& e) {
    failure = e.what();
  }
  cudaGraph_t graph = nullptr;
  const cudaError_t end = cudaStreamEndCapture(s, &graph);
  cudaGetLastError();  // a failed capture leaves its error here; the stream itself is fine
  if (!failure.empty() || end != cudaSuccess) {
    if (graph) cudaGraphDestroy(graph);
    PMSDSEN_FAIL("CUDA graph capture failed: ",
                 failure.empty() ? str("cudaStreamEndCapture: ", cudaGetErrorString(end)) : failure);
  }
  state_->graph = graph;
  const cudaError_t inst = cudaGraphInstantiate(&state_->exec, graph, 0);
  if (inst != cudaSuccess) {
    cudaGetLastError();
    cudaGraphDestroy(graph);
    state_->graph = nullptr;
    PMSDSEN_FAIL("CUDA graph instantiation failed: ", cudaGetErrorString(inst));
  }
  size_t n = 0;
  if (cudaGraphGetNodes(graph, nullptr, &n) == cudaSuccess) state_->nodes = n;
}

CapturedGraph::~CapturedGraph() {
  if (state_->exec) cudaGraphExecDestroy(state_->exec);
  if (state_->graph) cudaGraphDestroy(state_->graph);
}

void CapturedGraph::replay() { PMSDSEN_CUDA_CHECK(cudaGraphLaunch(state_->exec, cuda_env::stream())); }

size_t CapturedGraph::nodes() const { return state_->nodes; }

#else
struct CapturedGraph::State {};

CapturedGraph::CapturedGraph(const std::function<void()>&) {
  PMSDSEN_FAIL("CUDA graph capture needs a CUDA build");
}
CapturedGraph::~CapturedGraph() = default;
void CapturedGraph::replay() {}
size_t CapturedGraph::nodes() const { return 0; }
#endif

}  // namespace pmsdsen::cuda
