// Streams, events, capture and graphs of the emulated device.
#include "cuda/emu/queue.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cuda/emu/errors.h"

struct CUstream_st {
  unsigned flags = 0;
};
struct CUevent_st {
  unsigned flags = 0;
  bool recorded = false;
  double ms = 0.0;  // host time of the record
};
struct CUgraph_st {
  std::vector<pmsdsen::emu::Work> nodes;
};
struct CUgraphExec_st {
  std::vector<pmsdsen::emu::Work> nodes;
};

namespace pmsdsen::emu {
namespace {

struct Capture {
  bool active = false;
  bool invalidated = false;
  cudaStream_t stream = nullptr;
  std::unique_ptr<CUgraph_st> graph;
};

// One lock for the queue: work from several host threads runs one item at a time.
std::recursive_mutex& queue_mutex() {
  static std::recursive_mutex* m = new std::recursive_mutex;
  return *m;
}

Capture& capture() {
  static Capture* c = new Capture;
  return *c;
}

double now_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

cudaError_t submit(cudaStream_t stream, const char* what, Work work) {
  std::lock_guard<std::recursive_mutex> lock(queue_mutex());
  Capture& c = capture();
  if (c.active) {
    if (stream == c.stream) {
      c.graph->nodes.push_back(std::move(work));
      return cudaSuccess;
    }
    c.invalidated = true;
    return fail(cudaErrorStreamCaptureUnsupported,
                std::string(what) + " on another stream while a stream captures in global mode");
  }
  return work();
}

cudaError_t refuse_while_capturing(const char* what) {
  std::lock_guard<std::recursive_mutex> lock(queue_mutex());
  Capture& c = capture();
  if (!c.active) return cudaSuccess;
  c.invalidated = true;
  return fail(cudaErrorStreamCaptureUnsupported, std::string(what) + " while a stream captures");
}

}  // namespace pmsdsen::emu

using namespace pmsdsen::emu;

cudaError_t cudaStreamCreate(cudaStream_t* stream) { return cudaStreamCreateWithFlags(stream, cudaStreamDefault); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags) {
  if (!stream) return fail(cudaErrorInvalidValue, "cudaStreamCreateWithFlags: null output pointer");
  *stream = new CUstream_st{flags};
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  delete stream;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t) { return refuse_while_capturing("cudaStreamSynchronize"); }

cudaError_t cudaDeviceSynchronize() { return refuse_while_capturing("cudaDeviceSynchronize"); }

cudaError_t cudaEventCreate(cudaEvent_t* event) { return cudaEventCreateWithFlags(event, cudaEventDefault); }

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned flags) {
  if (!event) return fail(cudaErrorInvalidValue, "cudaEventCreateWithFlags: null output pointer");
  *event = new CUevent_st{flags, false, 0.0};
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (!event) return fail(cudaErrorInvalidResourceHandle, "cudaEventRecord: null event");
  return submit(stream, "cudaEventRecord", [event] {
    event->recorded = true;
    event->ms = now_ms();
    return cudaSuccess;
  });
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (!event) return fail(cudaErrorInvalidResourceHandle, "cudaEventSynchronize: null event");
  return refuse_while_capturing("cudaEventSynchronize");
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  if (!event) return fail(cudaErrorInvalidResourceHandle, "cudaEventQuery: null event");
  return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!ms || !start || !end) return fail(cudaErrorInvalidValue, "cudaEventElapsedTime: null argument");
  if ((start->flags | end->flags) & cudaEventDisableTiming)
    return fail(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: an event was created with cudaEventDisableTiming");
  if (!start->recorded || !end->recorded)
    return fail(cudaErrorInvalidResourceHandle, "cudaEventElapsedTime: an event has not been recorded");
  *ms = static_cast<float>(end->ms - start->ms);
  return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode) {
  std::lock_guard<std::recursive_mutex> lock(queue_mutex());
  Capture& c = capture();
  if (c.active) return fail(cudaErrorStreamCaptureUnsupported, "cudaStreamBeginCapture: a capture is already under way");
  c.active = true;
  c.invalidated = false;
  c.stream = stream;
  c.graph = std::make_unique<CUgraph_st>();
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  std::lock_guard<std::recursive_mutex> lock(queue_mutex());
  Capture& c = capture();
  if (!graph) return fail(cudaErrorInvalidValue, "cudaStreamEndCapture: null output pointer");
  *graph = nullptr;
  if (!c.active || c.stream != stream)
    return fail(cudaErrorIllegalState, "cudaStreamEndCapture: the stream is not capturing");
  c.active = false;
  std::unique_ptr<CUgraph_st> g = std::move(c.graph);
  if (c.invalidated)
    return fail(cudaErrorStreamCaptureInvalidated, "cudaStreamEndCapture: a call during the capture was refused");
  *graph = g.release();
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  if (!exec || !graph) return fail(cudaErrorInvalidValue, "cudaGraphInstantiate: null argument");
  *exec = new CUgraphExec_st{graph->nodes};
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  if (!exec) return fail(cudaErrorInvalidValue, "cudaGraphLaunch: null graph");
  std::lock_guard<std::recursive_mutex> lock(queue_mutex());
  if (capture().active) {
    // Replaying into a capture records the graph's work as a node.
    return submit(stream, "cudaGraphLaunch", [exec] {
      for (const Work& w : exec->nodes)
        if (const cudaError_t e = w(); e != cudaSuccess) return e;
      return cudaSuccess;
    });
  }
  for (const Work& w : exec->nodes)
    if (const cudaError_t e = w(); e != cudaSuccess) return e;
  return cudaSuccess;
}

cudaError_t cudaGraphGetNodes(cudaGraph_t graph, cudaGraphNode_t* nodes, size_t* count) {
  if (!graph || !count) return fail(cudaErrorInvalidValue, "cudaGraphGetNodes: null argument");
  if (nodes) return fail(cudaErrorNotSupported, "cudaGraphGetNodes: the emulator reports the count only");
  *count = graph->nodes.size();
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}
