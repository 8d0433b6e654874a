#pragma once
#include <string>
#include <vector>
// PMSDSEN's feature maps for one network input (docs/pmsdsen-architecture.md): the
// kernels are benchmarked at these shapes.
#include <cstdint>

#include "bench/kernel_registry.h"

namespace pmsdsen::bench {

struct Stage {
  int64_t channels, h, w;
};

struct NetShapes {
  int64_t n, h, w;  // the input image (3 channels)
  Stage s1, s2, s3; // C at H/2, 2C at H/4, 4C at H/8 (C = 32)
  int64_t classes = 19;
};

NetShapes net_shapes(const NetConfig& config);

// The feature map of each encoder stage (what BN and the activations see).
struct StageMap {
  std::string where;
  Shape shape;  // N, C, H, W
};
std::vector<StageMap> stage_maps(const NetConfig& config);

}  // namespace pmsdsen::bench
