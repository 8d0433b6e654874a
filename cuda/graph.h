#pragma once
// Captures work queued on the library stream into a CUDA graph and replays it: the whole
// inference forward as one launch (models/graph_forward.h), and in the benchmarks what
// the network costs without the host's launch overhead. Plain C++ (no CUDA headers); in
// builds without CUDA (where it is the one file of cuda/ compiled) construction throws.
#include <functional>
#include <memory>

namespace pmsdsen::cuda {

class CapturedGraph {
 public:
  // Runs fn() once under stream capture in global mode, where any call that would
  // synchronise with the device (or is otherwise unsafe during capture) fails, and
  // instantiates the graph. On failure the capture is ended and the stream left usable,
  // and pmsdsen::Error says what failed. The caller keeps every tensor the graph reads
  // or writes alive and unmoved for as long as it replays.
  explicit CapturedGraph(const std::function<void()>& fn);
  ~CapturedGraph();
  CapturedGraph(const CapturedGraph&) = delete;
  CapturedGraph& operator=(const CapturedGraph&) = delete;

  void replay();          // queues the graph on the library stream
  size_t nodes() const;   // kernels and copies captured

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace pmsdsen::cuda
