// pmsdsen bench model (placeholder until models/pmsdsen.h lands).
#include <iostream>

#include "bench/commands.h"
#include "core/error.h"

namespace pmsdsen::bench {

int bench_model_main(const std::vector<std::string>&) {
  PMSDSEN_FAIL("bench model: the model is not in this build yet");
}

}  // namespace pmsdsen::bench
