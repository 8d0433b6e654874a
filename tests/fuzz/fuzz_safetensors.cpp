// The safetensors reader, and the model hyper-parameters read from what it returns.
#include "core/safetensors.h"
#include "models/weights.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

void run(const std::string& bytes) {
  const pmsdsen::Safetensors file = pmsdsen::parse_safetensors(bytes, "fuzz.safetensors");
  (void)pmsdsen::weights_config(file, "fuzz.safetensors");
}

}  // namespace

PMSDSEN_FUZZ_TARGET(run)
