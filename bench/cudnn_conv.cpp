// cuDNN convolutions as baselines: Conv2d (plain, grouped/depthwise, dilated) and
// ConvTranspose2d, each pass through the legacy API with the algorithm chosen once by
// cudnnFind*AlgorithmEx on the benchmark's own data.
#ifdef PMSDSEN_WITH_CUDNN
#include <memory>
#include <string>
#include <vector>

#include "bench/cudnn_baselines.h"
#include "bench/cudnn_settings.h"
#include "bench/cudnn_util.h"

namespace pmsdsen::bench {
namespace {

using namespace cudnn;

// A convolution seen as cuDNN sees it: "in" [N, Ci, Hi, Wi] -> "out" [N, Co, Ho, Wo]
// with a filter [Co, Ci/groups, k, k]. The three primitives read and write these.
enum class Prim { Forward, BackwardData, BackwardFilter };
enum class Side { None, In, Out };

struct Dims {
  int64_t n, c, h, w;
};

struct ConvState {
  ConvState(Dims in_, Dims out_, int64_t k, const ConvGeometry& g, bool tf32)
      : in(in_.n, in_.c, in_.h, in_.w),
        out(out_.n, out_.c, out_.h, out_.w),
        filter(out_.c, in_.c / g.groups, k, k),
        conv(g.pad, g.stride, g.dilation, g.groups, tf32) {}
  TensorDesc in, out;
  FilterDesc filter;
  ConvDesc conv;
  std::unique_ptr<TensorDesc> bias;  // 1 x C x 1 x 1 on the bias side
  std::unique_ptr<Workspace> ws;
  int algo = 0;
};

const char* fwd_algo_name(int a) {
  static const char* names[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT",
                                "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
  return a >= 0 && a < 8 ? names[a] : "?";
}
const char* bwd_data_algo_name(int a) {
  static const char* names[] = {"ALGO_0", "ALGO_1", "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
  return a >= 0 && a < 6 ? names[a] : "?";
}
const char* bwd_filter_algo_name(int a) {
  static const char* names[] = {"ALGO_0", "ALGO_1", "FFT", "ALGO_3", "WINOGRAD", "WINOGRAD_NONFUSED",
                                "FFT_TILING"};
  return a >= 0 && a < 7 ? names[a] : "?";
}

// The fastest successful result (cuDNN sorts by time) that uses the math we allow;
// failing that, the fastest of any math, with a note saying so.
template <class Perf>
const Perf& pick(const std::vector<Perf>& perf, int returned, bool tf32, std::string& note,
                 const char* what) {
  const Perf* any = nullptr;
  for (int i = 0; i < returned; ++i) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
    if (!any) any = &perf[i];
    if (tf32 || perf[i].mathType == CUDNN_FMA_MATH) return perf[i];
  }
  PMSDSEN_CHECK(any != nullptr, "cuDNN ", what, ": no algorithm succeeded for this configuration (",
                returned, " tried)");
  note = str("no FMA-math algorithm succeeded; using one with ", math_name(any->mathType));
  return *any;
}

void check_numel(const Tensor& t, Dims d, const char* what) {
  PMSDSEN_CHECK(t.numel() == d.n * d.c * d.h * d.w, "cuDNN conv baseline: ", what, " is ", t.str(),
                ", cuDNN expects ", d.n, "x", d.c, "x", d.h, "x", d.w);
}

Baseline make_conv(const SharedBuffers& buffers, const ConvGeometry& g, Dims in, Dims out, Prim prim,
                   int in_idx, int w_idx, int out_idx, int bias_idx, Side bias_side, const char* label) {
  const bool tf32 = cudnn_settings().allow_tf32;
  auto st = std::make_shared<ConvState>(in, out, g.k, g, tf32);
  cudnnHandle_t h = handle();

  int on = 0, oc = 0, oh = 0, ow = 0;
  PMSDSEN_CUDNN_CHECK(cudnnGetConvolution2dForwardOutputDim(st->conv.get(), st->in.get(),
                                                            st->filter.get(), &on, &oc, &oh, &ow));
  PMSDSEN_CHECK(on == out.n && oc == out.c && oh == out.h && ow == out.w, "cuDNN conv baseline (", label,
                "): cuDNN computes an output of ", on, "x", oc, "x", oh, "x", ow, ", the benchmark has ",
                out.n, "x", out.c, "x", out.h, "x", out.w);

  const Tensors& s0 = buffers->set(0);
  const Tensor& tin = s0.at(static_cast<size_t>(in_idx));
  const Tensor& tw = s0.at(static_cast<size_t>(w_idx));
  const Tensor& tout = s0.at(static_cast<size_t>(out_idx));
  check_numel(tin, in, "the convolution input");
  check_numel(tout, out, "the convolution output");
  PMSDSEN_CHECK(tw.numel() == out.c * (in.c / g.groups) * g.k * g.k, "cuDNN conv baseline: filter is ",
                tw.str());
  if (bias_idx >= 0) {
    const Dims bd = bias_side == Side::In ? in : out;
    st->bias = std::make_unique<TensorDesc>(1, bd.c, 1, 1);
  }

  Workspace find_ws(find_workspace_limit());
  std::string note, name;
  if (prim == Prim::Forward) {
    int count = 0, returned = 0;
    PMSDSEN_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &count));
    std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(count));
    PMSDSEN_CUDNN_CHECK(cudnnFindConvolutionForwardAlgorithmEx(
        h, st->in.get(), ptr(tin), st->filter.get(), ptr(tw), st->conv.get(), st->out.get(), ptr(tout),
        count, &returned, perf.data(), find_ws.get(), find_ws.bytes()));
    const auto& p = pick(perf, returned, tf32, note, "ConvolutionForward");
    st->algo = p.algo;
    PMSDSEN_CUDNN_CHECK(cudnnSetConvolutionMathType(st->conv.get(), p.mathType));
    st->ws = std::make_unique<Workspace>(p.memory);
    name = str("cudnnConvolutionForward ", fwd_algo_name(p.algo), ", ", math_name(p.mathType));
  } else if (prim == Prim::BackwardData) {
    int count = 0, returned = 0;
    PMSDSEN_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &count));
    std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(static_cast<size_t>(count));
    PMSDSEN_CUDNN_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(
        h, st->filter.get(), ptr(tw), st->out.get(), ptr(tout), st->conv.get(), st->in.get(), ptr(tin),
        count, &returned, perf.data(), find_ws.get(), find_ws.bytes()));
    const auto& p = pick(perf, returned, tf32, note, "ConvolutionBackwardData");
    st->algo = p.algo;
    PMSDSEN_CUDNN_CHECK(cudnnSetConvolutionMathType(st->conv.get(), p.mathType));
    st->ws = std::make_unique<Workspace>(p.memory);
    name = str("cudnnConvolutionBackwardData ", bwd_data_algo_name(p.algo), ", ", math_name(p.mathType),
               p.determinism == CUDNN_DETERMINISTIC ? "" : ", non-deterministic");
  } else {
    int count = 0, returned = 0;
    PMSDSEN_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &count));
    std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(static_cast<size_t>(count));
    PMSDSEN_CUDNN_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(
        h, st->in.get(), ptr(tin), st->out.get(), ptr(tout), st->conv.get(), st->filter.get(), ptr(tw),
        count, &returned, perf.data(), find_ws.get(), find_ws.bytes()));
    const auto& p = pick(perf, returned, tf32, note, "ConvolutionBackwardFilter");
    st->algo = p.algo;
    PMSDSEN_CUDNN_CHECK(cudnnSetConvolutionMathType(st->conv.get(), p.mathType));
    st->ws = std::make_unique<Workspace>(p.memory);
    name = str("cudnnConvolutionBackwardFilter ", bwd_filter_algo_name(p.algo), ", ", math_name(p.mathType),
               p.determinism == CUDNN_DETERMINISTIC ? "" : ", non-deterministic");
  }
  if (bias_idx >= 0)
    name += prim == Prim::BackwardFilter ? " + cudnnConvolutionBackwardBias" : " + cudnnAddTensor (bias)";

  Baseline b;
  b.name = name;
  b.note = note;
  b.state = st;
  ConvState* s = st.get();
  b.run = [buffers, s, prim, in_idx, w_idx, out_idx, bias_idx, bias_side](int64_t set) {
    const Tensors& t = buffers->set(set);
    const float one = 1.0f, zero = 0.0f;
    cudnnHandle_t hd = handle();
    float* pin = ptr(t[static_cast<size_t>(in_idx)]);
    float* pw = ptr(t[static_cast<size_t>(w_idx)]);
    float* pout = ptr(t[static_cast<size_t>(out_idx)]);
    void* ws = s->ws->get();
    const size_t wsb = s->ws->bytes();
    switch (prim) {
      case Prim::Forward:
        PMSDSEN_CUDNN_CHECK(cudnnConvolutionForward(hd, &one, s->in.get(), pin, s->filter.get(), pw,
                                                    s->conv.get(), static_cast<cudnnConvolutionFwdAlgo_t>(s->algo),
                                                    ws, wsb, &zero, s->out.get(), pout));
        break;
      case Prim::BackwardData:
        PMSDSEN_CUDNN_CHECK(cudnnConvolutionBackwardData(
            hd, &one, s->filter.get(), pw, s->out.get(), pout, s->conv.get(),
            static_cast<cudnnConvolutionBwdDataAlgo_t>(s->algo), ws, wsb, &zero, s->in.get(), pin));
        break;
      case Prim::BackwardFilter:
        PMSDSEN_CUDNN_CHECK(cudnnConvolutionBackwardFilter(
            hd, &one, s->in.get(), pin, s->out.get(), pout, s->conv.get(),
            static_cast<cudnnConvolutionBwdFilterAlgo_t>(s->algo), ws, wsb, &zero, s->filter.get(), pw));
        break;
    }
    if (bias_idx < 0) return;
    float* pb = ptr(t[static_cast<size_t>(bias_idx)]);
    const TensorDesc& side = bias_side == Side::In ? s->in : s->out;
    float* pside = bias_side == Side::In ? pin : pout;
    if (prim == Prim::BackwardFilter) {
      PMSDSEN_CUDNN_CHECK(cudnnConvolutionBackwardBias(hd, &one, side.get(), pside, &zero, s->bias->get(), pb));
    } else {
      PMSDSEN_CUDNN_CHECK(cudnnAddTensor(hd, &one, s->bias->get(), pb, &one, side.get(), pside));
    }
  };
  return b;
}

std::vector<int> outputs_of(ConvPass pass, const ConvSlots& s) {
  switch (pass) {
    case ConvPass::Forward: return {s.y};
    case ConvPass::InputGrad: return {s.x};
    case ConvPass::WeightGrad: return s.b >= 0 ? std::vector<int>{s.w, s.b} : std::vector<int>{s.w};
  }
  return {};
}

}  // namespace

Baseline cudnn_conv(const SharedBuffers& buffers, const ConvGeometry& g, ConvPass pass, ConvSlots s) {
  const Dims in{g.N, g.Cin, g.H, g.W}, out{g.N, g.Cout, g.OH, g.OW};
  Baseline b;
  switch (pass) {
    case ConvPass::Forward:
      b = make_conv(buffers, g, in, out, Prim::Forward, s.x, s.w, s.y, s.b, Side::Out, "forward");
      break;
    case ConvPass::InputGrad:
      b = make_conv(buffers, g, in, out, Prim::BackwardData, s.x, s.w, s.y, -1, Side::None, "input gradient");
      break;
    case ConvPass::WeightGrad:
      b = make_conv(buffers, g, in, out, Prim::BackwardFilter, s.x, s.w, s.y, s.b, Side::Out, "weight gradient");
      break;
  }
  b.compare = outputs_of(pass, s);
  return b;
}

Baseline cudnn_conv_transpose(const SharedBuffers& buffers, const ConvGeometry& g, ConvPass pass, ConvSlots s) {
  PMSDSEN_CHECK(g.groups == 1 && g.dilation == 1, "cuDNN transposed conv baseline: groups and dilation must be 1");
  // The adjoint convolution: in = the transposed op's output, out = its input.
  const Dims in{g.N, g.Cout, g.OH, g.OW}, out{g.N, g.Cin, g.H, g.W};
  Baseline b;
  switch (pass) {
    case ConvPass::Forward:
      b = make_conv(buffers, g, in, out, Prim::BackwardData, s.y, s.w, s.x, s.b, Side::In, "transposed forward");
      break;
    case ConvPass::InputGrad:
      b = make_conv(buffers, g, in, out, Prim::Forward, s.y, s.w, s.x, -1, Side::None, "transposed input gradient");
      break;
    case ConvPass::WeightGrad:
      b = make_conv(buffers, g, in, out, Prim::BackwardFilter, s.y, s.w, s.x, s.b, Side::In,
                    "transposed weight gradient");
      break;
  }
  b.compare = outputs_of(pass, s);
  return b;
}

}  // namespace pmsdsen::bench
#endif  // PMSDSEN_WITH_CUDNN
