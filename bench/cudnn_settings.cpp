#include "bench/cudnn_settings.h"

namespace pmsdsen::bench {

CudnnSettings& cudnn_settings() {
  static CudnnSettings s;
  return s;
}

}  // namespace pmsdsen::bench
