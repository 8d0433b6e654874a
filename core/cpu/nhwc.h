#pragma once
// CPU kernels of the inference plan (models/plan/): channels-last (NHWC) float32 tensors,
// processed one tile at a time. A tile is a run of T consecutive output pixels of one
// sample (row-major pixel order); a kernel computes its raw values (the convolution sum,
// or a pooled value) into a small buffer, then an epilogue program (a short list of
// EpOp) adds the bias, residuals and activations, stores the result into one or more
// tensors (channel slices of larger ones: no concatenation is ever copied) and leaves
// per-tile channel sums for global average pools. The tile loop and the threads belong
// to the caller (one parallel region per plan step); every kernel here is serial and
// writes only its own tile, so results do not depend on the thread count.
//
// Layout: element (n, p, c) of a view is at base[n * sample + p * stride + c], with base
// already at the view's first channel (stride = channels of the whole tensor).
#include <cstdint>

namespace pmsdsen::cpu::nhwc {

// Floats per vector register: 16 with AVX-512, 8 with AVX, 4 otherwise (the build's
// -march decides; every layout below is correct for any width).
int vector_lanes();

struct View {
  float* base = nullptr;
  int64_t sample = 0;  // elements per sample
  int64_t stride = 0;  // elements per pixel
  float* at(int64_t n, int64_t p) const { return base + n * sample + p * stride; }
};
struct ConstView {
  const float* base = nullptr;
  int64_t sample = 0, stride = 0;
  int64_t channels = 0;
  const float* at(int64_t n, int64_t p) const { return base + n * sample + p * stride; }
};

struct Act {
  enum Kind : uint8_t { None, GELU, PReLU, Leaky } kind = None;
  const float* slopes = nullptr;  // PReLU: one per channel of the op's range
  float slope = 0.0f;             // Leaky
};

// One step of an epilogue over tile columns [c0, c1). Per-channel arrays are indexed
// from c0 (element 0 belongs to column c0); per-(sample, channel) arrays at
// nc[n * nc_stride + (c - c0)].
struct EpOp {
  enum Kind : uint8_t {
    Bias,         // v += a[c]
    Affine,       // v = v * a[c] + b[c]                     (a folded batch norm)
    ScaleNC,      // v *= nc[n, c]
    AddNC,        // v += nc[n, c]                          (a 1x1 map broadcast)
    AddView,      // v += view[n, p, c] (* nc[n, c] when nc)
    AddResized,   // v += bilinear(src)(n, y, x, c)         (src small, align_corners=False)
    Activate,     // v = act(v)
    Store,        // view[n, p, c] = v
    StoreMapped,  // view[n, p, c] = act(v * a[c] + b[c]) (v unchanged); sums of what it stored
    Sum,          // sums[slot, c] = sum over the tile's pixels of v
    StoreNCHW,    // out[n, c, p] = v (view.base is the first channel's plane, view.sample per
                  // sample, plane = pixels per plane)
  } kind;
  int c0 = 0, c1 = 0;
  const float* a = nullptr;
  const float* b = nullptr;
  const float* nc = nullptr;
  int64_t nc_stride = 0;
  View view{};
  ConstView src{};
  Act act{};
  float* sums = nullptr;  // Sum / StoreMapped: sums + slot * sums_stride + (c - c0)
  int64_t sums_stride = 0;
  int src_h = 0, src_w = 0;  // AddResized: the source map's size
  float ratio_h = 0.0f, ratio_w = 0.0f;
  int64_t plane = 0;  // StoreNCHW
};

// The tile an epilogue works on: T pixels p0 .. p0+T-1 of sample n of an image out_w
// wide, raw values v[r * ld + c]; `slot` indexes the per-tile sums.
struct Tile {
  int64_t n = 0, p0 = 0, T = 0;
  float* v = nullptr;
  int64_t ld = 0;
  int64_t slot = 0;
  int64_t out_w = 1;
};

void run_epilogue(const EpOp* ops, int count, const Tile& t);

// ---- convolutions as products over gathered input rows ---------------------------------
// Weights are packed once: for column block j (bw = block width, a multiple of the
// vector width), tap t and input channel k (all input views in order):
// data[((j * taps + t) * K + k) * bw + col], output channels past cout zero.
struct Packed {
  const float* data = nullptr;
  int taps = 1, K = 0, cout = 0, cout_pad = 0, bw = 0;
  int64_t block_elems() const { return static_cast<int64_t>(taps) * K * bw; }
  int64_t elems() const { return block_elems() * (cout_pad / bw); }
};
// The block width and padded channel count the packing uses for cout outputs.
void packed_geometry(int cout, int& cout_pad, int& bw);
// w[co * wsco + k * wsk + t * wst] (any PyTorch weight order) into `out` (elems() floats),
// each weight times in_scale[k] and out_scale[co] when those are given.
void pack_weights(const float* w, int64_t wsco, int64_t wsk, int64_t wst, Packed& p, float* out,
                  const float* in_scale = nullptr, const float* out_scale = nullptr);

// 1x1 convolution: raw[r, co] = sum_k in(n, p0 + r, k) * w[k, co] over the input views
// (concatenated along channels), for T pixels; raw has ld >= cout_pad.
void conv1x1_tile(const ConstView* in, int views, const Packed& w, int64_t n, int64_t p0, int64_t T,
                  float* raw, int64_t ld);

// 3x3 convolution, padding 1, stride 1 or 2, over input views of in_h x in_w: T output
// pixels of row oy starting at column ox0.
void conv3x3_tile(const ConstView* in, int views, int64_t in_h, int64_t in_w, int stride, const Packed& w,
                  int64_t n, int64_t oy, int64_t ox0, int64_t T, float* raw, int64_t ld);

// Transposed 3x3 convolution, stride 2, padding 1, output padding 1 (output 2H x 2W):
// T output pixels of row oy from column ox0 (ox0 and T even). Weights packed by tap
// ky*3+kx with K = input channels.
void conv_transpose3x3_tile(const ConstView& in, int64_t in_h, int64_t in_w, const Packed& w, int64_t n,
                            int64_t oy, int64_t ox0, int64_t T, float* raw, int64_t ld);

// Depthwise 3x3, stride 1, padding = dilation: one output row oy of a compact view
// (stride == channels). wpat: the weights expanded by depthwise_pattern (taps x period
// vectors), bias likewise (period vectors).
int depthwise_period(int channels);  // vectors after which the per-lane weights repeat
void depthwise_pattern(const float* w /* [C][9] */, const float* bias /* [C] or null */, int channels,
                       float* wpat /* 9 * period * lanes */, float* bpat /* period * lanes */);
void depthwise3x3_row(const ConstView& in, int64_t h, int64_t w, int dilation, const float* wpat,
                      const float* bpat, const float* w9 /* [C][9] */, const float* bias, int64_t n, int64_t oy,
                      float* raw /* w * channels, ld = channels */);

// Pooling rows into raw (ld >= channels): out = avg(k, s, p) (count_include_pad),
// max(k, s, p), or their sum.
enum class PoolMode { Avg, Max, AvgPlusMax };
void pool_row(const ConstView& in, int64_t h, int64_t w, int64_t oh, int64_t ow, int k, int s, int p, PoolMode mode,
              int64_t n, int64_t oy, float* raw, int64_t ld);

// NCHW -> NHWC for T pixels of sample n from pixel p0 (x: [N, C, P]).
void nchw_to_tile(const float* x, int64_t C, int64_t P, int64_t n, int64_t p0, int64_t T, float* raw, int64_t ld);

// PyTorch's bilinear source indices and weights along one axis (align_corners=False,
// size ratio), precomputed once.
struct BilinearAxis {
  int in = 0, out = 0;
  float ratio = 0.0f;
  int* i0 = nullptr;  // out entries each (storage owned by the caller: 2 ints + 2 floats per output)
  int* i1 = nullptr;
  float* l0 = nullptr;
  float* l1 = nullptr;
};
// Fills the arrays of `a` (in, out, and the four pointers set by the caller).
void bilinear_axis(BilinearAxis& a);
// Bilinear of NCHW planes H x W -> OH x OW, output rows [r0, r1) (row index over planes * OH).
void bilinear_nchw_rows(const float* x, float* y, const BilinearAxis& ah, const BilinearAxis& aw, int64_t r0,
                        int64_t r1);

}  // namespace pmsdsen::cpu::nhwc
