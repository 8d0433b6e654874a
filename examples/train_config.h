#pragma once
// The settings of a training run: defaults (the authors' Cityscapes stage 1), a JSON
// config file, command-line flags overriding it. Every setting has one name, used as
// the flag (--name) and as the JSON key, so `config.json` in a run folder can be
// edited and passed back with --config.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/image.h"
#include "examples/cli.h"

namespace pmsdsen::train {

// A config is one flat object; one more level lets a wrong-typed value ("crop": [512,
// 256]) reach the check that names its key. Deeper JSON is refused when parsed.
constexpr int kConfigMaxNesting = 2;

// Bounds checked by resolve(), before anything is created or allocated.
constexpr int64_t kMaxSide = 8192;      // --crop, --synthetic-size
constexpr int64_t kMaxBatch = 1024;     // --batch
constexpr int64_t kMaxWorkers = 64;     // --workers (loader threads)
constexpr int64_t kMaxScenes = 100000;  // --synthetic-train, --synthetic-val

struct TrainConfig {
  // data
  std::string dataset = "cityscapes";  // cityscapes | camvid | synthetic
  std::string root;                    // dataset folder (not used by synthetic)
  std::string train_split = "train", val_split = "val";
  int64_t crop_width = 512, crop_height = 256;
  std::string scale_range = "auto";  // "MIN,MAX" or auto (data::authors_augmentation)
  std::string jitter = "auto";       // on | off | auto (data::authors_augmentation)
  bool flip = true;
  bool skip_bad = false;
  int64_t max_pixels = data::kDefaultMaxPixels;  // larger images are refused (data::DecodeLimits)
  int64_t synthetic_width = 512, synthetic_height = 256;  // the built-in scenes
  int64_t synthetic_train = 200, synthetic_val = 40;

  // optimisation
  int64_t batch = 12;
  int64_t iters = 0;     // total iterations; 0: epochs x batches per epoch
  int64_t epochs = 500;
  double lr = 0.045;
  double poly_power = 0.9;
  int64_t warmup_iters = 0;
  double momentum = 0.9, weight_decay = 1e-4;
  std::string class_weights = "none";  // none | authors | comma-separated list
  std::string loss = "ce";             // ce | ohem
  double ohem_threshold = 0.7;
  double aux_weight = 1.0;             // weight of the two deep-supervision losses
  bool freeze_bn = false;
  std::string init;                    // initial weights (stage 2)
  std::string activation = "gelu";     // gelu | prelu

  // run
  std::string device = "auto";  // auto | cpu | cuda
  int64_t workers = 0;          // loader threads; 0: min(4, cores)
  int64_t seed = 0;
  std::string out = "runs/train";
  int64_t val_every = 0;        // iterations; 0: once per epoch; -1: only at the end
  double val_scale = 0.0;       // 0: auto (0.5 for cityscapes, 1 otherwise)
  int64_t val_limit = 0;        // only the first N validation images (0: all)
  bool val_at_start = false;    // also validate the initial weights (iteration 0)
  int64_t log_every = 10;
  int64_t save_every = 0;       // write last every N iterations besides validations (0: never)
  int64_t stop_after = 0;       // stop (as Ctrl-C does) after this iteration; 0: never

  // data parallelism (mpirun -np N pmsdsen train ...)
  bool sync_bn = false;         // batch norm statistics over every rank's shard
  double comm_timeout = 300;    // seconds a rank waits for the others before all stop
  bool grad_overlap = true;     // all-reduce gradient buckets while backward runs
};

// Setting name <-> JSON value. Unknown keys and values of the wrong type are errors
// naming the key.
nlohmann::json to_json(const TrainConfig& config);
void update_from_json(TrainConfig& config, const nlohmann::json& j, const std::string& source);
TrainConfig config_from_json(const nlohmann::json& j, const std::string& source);
// The text of a --config file as JSON (nesting limited; an error naming `source`).
nlohmann::json parse_config_text(const std::string& text, const std::string& source);

// The flags of `pmsdsen train` (every setting, plus --config and --resume), with the
// defaults shown in --help.
std::vector<cli::FlagSpec> train_flag_specs();
// Applies the flags given on the command line (settings only); returns their names.
std::vector<std::string> apply_flags(TrainConfig& config, const cli::Args& args);

// Replaces every "auto" by its value for the dataset and crop (augmentation: the data
// issue's authors_augmentation presets), and checks ranges.
// Idempotent. Throws an Error naming the setting at fault.
void resolve(TrainConfig& config);

// Derived values, valid after resolve().
std::pair<double, double> scale_range_values(const TrainConfig& config);
bool jitter_on(const TrainConfig& config);
// The authors' Cityscapes / CamVid tables for class_weights = authors; a list as given;
// empty for none. `classes` checks the length.
std::vector<double> class_weight_values(const TrainConfig& config, int64_t classes);

}  // namespace pmsdsen::train
