#pragma once
// Emits PMSDSEN's inference program for one input shape (internal to models/plan/).
// Steps are made by a few helpers (one per kernel kind) that pick the tiling and take an
// epilogue; the network-specific code (build_unit.cpp, build_net.cpp) decides the
// fusions: which tensors each epilogue stores, adds and sums.
#include <functional>
#include <string>
#include <vector>

#include "models/plan/program.h"
#include "models/plan/weights.h"

namespace pmsdsen::plan {

// The run's input and outputs, outside the arena (set before each run).
struct PlanIo {
  const float* image = nullptr;  // [N, 3, H, W]
  float* outputs[3] = {nullptr, nullptr, nullptr};  // [N, classes, H, W] each
};

// A planned NHWC tensor of the arena, or a channel slice of one.
struct Map {
  int buf = -1;
  int64_t off = 0, ch = 0, stride = 0, h = 0, w = 0;
  Map slice(int64_t first, int64_t count) const {
    Map m = *this;
    m.off += first;
    m.ch = count;
    return m;
  }
  int64_t pixels() const { return h * w; }
};

// Per-tile partial channel sums left by epilogues: channels [c0, c0 + m) of a tensor,
// tiles_per_sample slots per sample.
struct SumSeg {
  int buf = -1;
  const float* part = nullptr;  // [N, tiles, m]
  int64_t tiles = 0, c0 = 0, m = 0;
};
using Sums = std::vector<SumSeg>;

// mean[n, c] over `pixels` pixels, for the channels the segments cover (channels per sample).
void channel_means(const Sums& sums, int64_t batch, int64_t channels, int64_t pixels, float* out);

class NetBuilder;

// An epilogue under construction; every tensor it touches is recorded for lifetimes.
class Epi {
 public:
  Epi(NetBuilder& b, int64_t tiles_per_sample) : b_(b), tiles_(tiles_per_sample) {}
  Epi& bias(int c0, int c1, const float* a);
  Epi& affine(int c0, int c1, const AffineWeights& bn, int64_t first = 0);
  Epi& act(int c0, int c1, nhwc::Act a, int64_t first = 0);
  Epi& scale_nc(int c0, int c1, int nc_buf, int64_t nc_stride, int64_t first = 0);
  Epi& add_nc(int c0, int c1, int nc_buf, int64_t nc_stride, int64_t first = 0);
  // v[c0 ..] += src (channels from src's first), times nc[n, first + c - c0] when nc_buf >= 0.
  Epi& add(int c0, const Map& src, int nc_buf = -1, int64_t nc_stride = 0, int64_t first = 0);
  Epi& add_resized(int c0, const Map& small);
  Epi& store(int c0, const Map& dst);
  // dst = act(bn(v)) over dst's channels, bn and act indexed from `first`; sums appended.
  Epi& store_mapped(int c0, const Map& dst, const AffineWeights* bn, nhwc::Act a, int64_t first, Sums* sums);
  Epi& sum(int c0, int c1, Sums& sums, int64_t channel_offset);
  Epi& store_nchw(int c0, int c1, int buf, int64_t plane);

  std::vector<nhwc::EpOp> ops;
  std::vector<int> uses;

 private:
  SumSeg new_sums(int64_t m, int64_t c0);
  Epi& nc_op(nhwc::EpOp::Kind kind, int c0, int c1, int nc_buf, int64_t nc_stride, int64_t first);
  NetBuilder& b_;
  int64_t tiles_;
};

using EpiFn = std::function<void(Epi&)>;

class NetBuilder {
 public:
  NetBuilder(ProgramBuilder& pb, PlanWeights& w, int64_t batch, int64_t height, int64_t width, bool heads,
             PlanIo* io);
  void build();  // build_net.cpp

  // ---- tensors -------------------------------------------------------------------------
  Map map(const std::string& name, int64_t ch, int64_t h, int64_t w);
  int small(const std::string& name, int64_t floats);
  float* ptr(int buf) const { return pb_.ptr(buf); }
  nhwc::View view(const Map& m) const;
  nhwc::ConstView cview(const Map& m) const;
  int64_t batch() const { return N_; }

  // ---- steps ---------------------------------------------------------------------------
  // Per-sample weights: `per_sample_buf` holds N packings of w's geometry (>= 0), else w's own.
  void conv1x1(const std::string& name, const std::vector<Map>& in, const ConvWeights& w, int per_sample_buf,
               int64_t h, int64_t wd, const EpiFn& epi);
  void conv3x3(const std::string& name, const std::vector<Map>& in, int stride, const ConvWeights& w,
               const EpiFn& epi);
  void conv_transpose(const std::string& name, const Map& in, const ConvWeights& w, const EpiFn& epi);
  void depthwise(const std::string& name, const Map& in, const DepthwiseWeights& w, int dilation, const EpiFn& epi);
  void pool(const std::string& name, const Map& in, int k, int s, int p, nhwc::PoolMode mode, const EpiFn& epi);
  // Tiles of `ch` zeros over h x w pixels, then the epilogue (elementwise combinations).
  void elementwise(const std::string& name, int64_t ch, int64_t h, int64_t w, const EpiFn& epi);
  void from_nchw(const std::string& name, const Map& dst);  // the input image
  // Bilinear upsampling of NCHW planes (buf: [N, classes, h, w]) into output `index`.
  void upsample_output(const std::string& name, int buf, int64_t classes, int64_t h, int64_t w, int index);
  void host(const std::string& name, const std::vector<int>& uses, std::function<void()> f);

  std::vector<int> uses_of(const Sums& sums) const;

  PlanWeights& w() { return w_; }

 private:
  friend class Epi;
  // Pixels per tile for a product with cout_pad output columns (a multiple of its rows).
  static int64_t tile_pixels(int cout_pad, int bw);

  // build_unit.cpp / build_net.cpp
  struct Feature;
  void unit(const std::string& u, const std::vector<Map>& x, const Map& e, const Sums& e_sums, const Map& out,
            Sums* out_sums, const std::string& next_bn, const std::string& next_act, Map* next_e, Sums* next_sums);
  void lrms(const std::string& l, const Map& in, const std::string& tag, const EpiFn& tail);

  ProgramBuilder& pb_;
  PlanWeights& w_;
  int64_t N_, H_, W_;
  bool heads_;
  PlanIo* io_;
};

// The channel means of a 1x1 convolution's output from its input's: z = W m + b per sample.
void linear_means(const ConvWeights& w, const float* m, int64_t batch, float* z);

// ECA's attention: s[n, c] = sigmoid(sum_t k[t] * mean[n, c - pad + t]) (+ add).
void eca_scale(const float* mean, const std::vector<float>& k, int64_t batch, int64_t channels, float add, float* s);

}  // namespace pmsdsen::plan
