#include "core/cpu/resize.h"

#include <cstddef>
#include <vector>

#include "core/cpu/grain.h"
#include "core/parallel.h"
#include "core/resize_math.h"

namespace pmsdsen::cpu {

namespace {

// Per output index along one axis: the two source indices and their weights.
template <class T>
struct AxisTaps {
  std::vector<int> i0, i1;
  std::vector<T> l0, l1;
  AxisTaps(T ratio, int out, int in, bool align_corners) : i0(out), i1(out), l0(out), l1(out) {
    for (int d = 0; d < out; ++d)
      hd::bilinear_source(ratio, d, in, align_corners, i0[d], i1[d], l0[d], l1[d]);
  }
};

// Per input index j along one axis: the outputs that read it and with what weight, as a
// compressed list (the backward is a gather).
template <class T>
struct AxisGather {
  std::vector<int> begin, out;  // out[begin[j] .. begin[j+1]) are the outputs reading j
  std::vector<T> weight;
  AxisGather(T ratio, int out_size, int in, bool align_corners) : begin(in + 1, 0) {
    for (int j = 0; j < in; ++j) {
      int first, last;
      hd::bilinear_outputs_reading(ratio, out_size, in, align_corners, j, first, last);
      for (int d = first; d < last; ++d) {
        const T w = hd::bilinear_weight(ratio, d, in, align_corners, j);
        if (w != T(0)) {
          out.push_back(d);
          weight.push_back(w);
        }
      }
      begin[j + 1] = static_cast<int>(out.size());
    }
  }
};

}  // namespace

template <class T>
void bilinear_forward(const T* x, T* y, int64_t planes, int H, int W, int OH, int OW, T ratio_h,
                      T ratio_w, bool align_corners) {
  const AxisTaps<T> th(ratio_h, OH, H, align_corners), tw(ratio_w, OW, W, align_corners);
  parallel_for(0, planes * OH, [&](int64_t row) {
    const int64_t plane = row / OH;
    const int oh = static_cast<int>(row % OH);
    bilinear_row(x + (plane * H + th.i0[oh]) * W, x + (plane * H + th.i1[oh]) * W, th.l0[oh], th.l1[oh],
                 tw.i0.data(), tw.i1.data(), tw.l0.data(), tw.l1.data(), OW, y + row * OW);
  }, grain_for(int64_t(OW) * 4));
}

template <class T>
void bilinear_backward(const T* gy, T* gx, int64_t planes, int H, int W, int OH, int OW,
                       T ratio_h, T ratio_w, bool align_corners) {
  const AxisGather<T> gh(ratio_h, OH, H, align_corners), gw(ratio_w, OW, W, align_corners);
  parallel_for(0, planes, [&](int64_t plane) {
    std::vector<T> tmp(static_cast<size_t>(OH) * W);  // gy reduced along W
    const T* g = gy + plane * OH * OW;
    for (int oh = 0; oh < OH; ++oh) {
      const T* grow = g + static_cast<int64_t>(oh) * OW;
      T* trow = tmp.data() + static_cast<int64_t>(oh) * W;
      for (int w = 0; w < W; ++w) {
        T acc = 0;
        for (int e = gw.begin[w]; e < gw.begin[w + 1]; ++e) acc += gw.weight[e] * grow[gw.out[e]];
        trow[w] = acc;
      }
    }
    T* out = gx + plane * H * W;
    for (int h = 0; h < H; ++h) {
      T* orow = out + static_cast<int64_t>(h) * W;
      for (int w = 0; w < W; ++w) orow[w] = 0;
      for (int e = gh.begin[h]; e < gh.begin[h + 1]; ++e) {
        const T a = gh.weight[e];
        const T* trow = tmp.data() + static_cast<int64_t>(gh.out[e]) * W;
        for (int w = 0; w < W; ++w) orow[w] += a * trow[w];
      }
    }
  }, grain_for(int64_t(OH) * OW * 2));
}

#define PMSDSEN_INSTANTIATE(T)                                                                 \
  template void bilinear_forward<T>(const T*, T*, int64_t, int, int, int, int, T, T, bool);    \
  template void bilinear_backward<T>(const T*, T*, int64_t, int, int, int, int, T, T, bool);
PMSDSEN_INSTANTIATE(float)
PMSDSEN_INSTANTIATE(double)
#undef PMSDSEN_INSTANTIATE

}  // namespace pmsdsen::cpu
