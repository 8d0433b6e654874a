// The training checkpoint reader: the file, its run state and config (what --resume
// reads), and the weights in it with their hyper-parameters (what --weights and --init
// read).
#include "examples/train_checkpoint.h"
#include "examples/train_config.h"
#include "models/weights.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

void run(const std::string& bytes) {
  using namespace pmsdsen;
  Safetensors file = parse_safetensors(bytes, "fuzz.safetensors");
  try {
    (void)weights_config(train::weights_in_file(file), "fuzz.safetensors");
  } catch (const Error&) {
  }
  const train::Checkpoint c = train::parse_checkpoint(std::move(file), "fuzz.safetensors");
  train::TrainConfig config = train::config_from_json(c.state.config, "fuzz.safetensors");
  train::resolve(config);
}

}  // namespace

PMSDSEN_FUZZ_TARGET(run)
