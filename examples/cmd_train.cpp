// pmsdsen train: trains PMSDSEN (see examples/trainer.h for the run folder).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/comm.h"
#include "core/error.h"
#include "core/file_io.h"
#include "examples/cli.h"
#include "examples/run_folder.h"
#include "models/predict.h"
#include "examples/train_checkpoint.h"
#include "examples/train_config.h"
#include "examples/trainer.h"

namespace pmsdsen::cli {
namespace {

namespace fs = std::filesystem;

nlohmann::json read_json_file(const std::string& path) {
  return train::parse_config_text(read_file(path, "config file"), path);
}

int train_command(const std::vector<std::string>& argv) {
  Args args("train", train::train_flag_specs(), argv);
  if (args.help_requested()) {
    std::cout
        << "usage: pmsdsen train [--config FILE] [--resume DIR] [options]\n\n"
           "Trains PMSDSEN with SGD (momentum, weight decay) and the poly learning-rate schedule, the loss\n"
           "summed over the three outputs. The defaults are the authors' Cityscapes stage 1 (512x256 crops,\n"
           "batch 12, lr 0.045, 500 epochs, scale 0.25-0.5, colour jitter, CE loss): --dataset defaults to\n"
           "cityscapes and needs --root. Their stage 2 starts from stage 1's weights:\n"
           "  pmsdsen train --root DIR --init runs/stage1/best.safetensors --freeze-bn --crop 1024x512 \\\n"
           "                --batch 6 --lr 0.01 --out runs/stage2\n"
           "No download needed: --dataset synthetic (built-in street scenes; see pmsdsen demo).\n\n"
           "The run folder (--out) holds config.json, last.safetensors, best.safetensors (by validation\n"
           "mIoU), log.jsonl and curves.svg, all written atomically; it is locked (.lock) while a training\n"
           "uses it, so a second one into it is refused. Ctrl-C saves last and exits (a second Ctrl-C\n"
           "exits at once); --resume DIR continues bit-identically on the CPU.\n"
           "Several processes (mpirun -np N pmsdsen train ..., one GPU each): --batch stays the whole batch,\n"
           "each rank trains on its slice (uneven when N does not divide it) and gradients are averaged\n"
           "before each step; rank 0 writes the run folder; --sync-bn makes batch norm use the whole batch.\n"
           "A config file's keys are the option names below, e.g. {\"dataset\": \"camvid\", \"crop\": \"480x360\"}.\n\n"
        << args.usage();
    return 0;
  }
  PMSDSEN_CHECK(args.positional().empty(), "train: unexpected argument '", args.positional().front(), "'");
  train::TrainConfig config;
  std::optional<train::Checkpoint> resume;
  if (args.has("resume")) {
    PMSDSEN_CHECK(!args.has("config"), "train: --resume takes the run's own settings; give overrides as flags, "
                  "not --config");
    const std::string dir = args.get("resume");
    const std::string path = fs::is_directory(dir) ? (fs::path(dir) / "last.safetensors").string() : dir;
    PMSDSEN_CHECK(fs::exists(path), "train: --resume: no checkpoint '", path, "'");
    resume = train::load_checkpoint(path);
    config = train::config_from_json(resume->state.config, path);
    config.stop_after = 0;  // a time box belongs to the invocation that set it
    if (!args.has("out")) config.out = fs::is_directory(dir) ? dir : fs::path(dir).parent_path().string();
  } else if (args.has("config")) {
    train::update_from_json(config, read_json_file(args.get("config")), args.get("config"));
  }
  const nlohmann::json before = train::to_json(config);
  const std::vector<std::string> given = train::apply_flags(config, args);
  if (resume) {
    const nlohmann::json after = train::to_json(config);
    for (const std::string& name : given)
      if (before[name] != after[name] && comm::world().rank() == 0)
        std::cout << "resume: " << name << " " << before[name].dump() << " -> " << after[name].dump() << "\n";
  }
  train::check_run_folder_path(config.out);
  if (!resume && !args.flag("overwrite")) {
    const fs::path last = fs::path(config.out) / "last.safetensors";
    PMSDSEN_CHECK(!fs::exists(last), "train: '", config.out, "' already holds a run (", last.string(),
                  "); continue it with --resume ", config.out, ", or start afresh with --overwrite or another --out");
  }
  const train::TrainResult result = train::run_training(config, resume);
  return result.exit_code();
}

// Under mpirun, an error on one rank ends every rank (the others would wait for it in
// their next collective until the time-out), with the message naming the rank.
int run_train(const std::vector<std::string>& argv) {
  comm::world();  // first: under mpirun every later error is one rank's
  try {
    return train_command(argv);
  } catch (const std::exception& e) {
    if (!comm::world_is_distributed()) throw;
    std::fprintf(stderr, "pmsdsen train: %serror: %s; stopping every rank\n", comm::rank_prefix().c_str(), e.what());
    comm::world().abort(1);
  }
  return 1;  // not reached: abort() ends the process
}

}  // namespace

PMSDSEN_COMMAND("train", "train PMSDSEN (cityscapes, camvid or the built-in synthetic scenes)", run_train);

}  // namespace pmsdsen::cli
