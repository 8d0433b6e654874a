#include "bench/net_shapes.h"

#include "core/error.h"

namespace pmsdsen::bench {

NetShapes net_shapes(const NetConfig& c) {
  PMSDSEN_CHECK(c.height % 8 == 0 && c.width % 8 == 0 && c.height > 0 && c.width > 0,
                "bench: PMSDSEN needs an input size that is a multiple of 8, got ", c.str());
  constexpr int64_t C = 32;
  NetShapes s;
  s.n = c.batch;
  s.h = c.height;
  s.w = c.width;
  s.s1 = {C, c.height / 2, c.width / 2};
  s.s2 = {2 * C, c.height / 4, c.width / 4};
  s.s3 = {4 * C, c.height / 8, c.width / 8};
  return s;
}

std::vector<StageMap> stage_maps(const NetConfig& config) {
  const NetShapes n = net_shapes(config);
  return {{"stage 1 (H/2)", {n.n, n.s1.channels, n.s1.h, n.s1.w}},
          {"stage 2 (H/4)", {n.n, n.s2.channels, n.s2.h, n.s2.w}},
          {"stage 3 (H/8)", {n.n, n.s3.channels, n.s3.h, n.s3.w}}};
}

}  // namespace pmsdsen::bench
