// The JSON training config (train --config FILE): parsed, applied, resolved, written back
// and read again, as a run folder's config.json is.
#include "examples/train_config.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

void run(const std::string& bytes) {
  using namespace pmsdsen::train;
  TrainConfig c;
  update_from_json(c, parse_config_text(bytes, "fuzz.json"), "fuzz.json");
  resolve(c);
  (void)class_weight_values(c, 19);
  const TrainConfig again = config_from_json(to_json(c), "config.json");
  if (to_json(again) != to_json(c)) __builtin_trap();
}

}  // namespace

PMSDSEN_FUZZ_TARGET(run)
