// The settings table of `pmsdsen train`: one entry per setting (flag, JSON key, help,
// type), read from flags and from config.json and written back.
#include "examples/train_config.h"

#include <cmath>
#include <functional>
#include <sstream>

#include "core/error.h"
#include "core/json_parse.h"
#include "examples/parse_text.h"

namespace pmsdsen::train {
namespace {

using nlohmann::json;

const std::string kCommandLine = "command line";

enum class Kind { Text, Int, Number, Switch, OnOff, Size };

// One setting: its name (flag and JSON key), help, and how to read and write it.
struct Field {
  std::string name, value, help;
  Kind kind;
  std::function<json(const TrainConfig&)> get;
  std::function<void(TrainConfig&, const json&)> set;
};

template <class T>
Field field(std::string name, std::string value, std::string help, Kind kind, T TrainConfig::*member) {
  return {std::move(name), std::move(value), std::move(help), kind,
          [member](const TrainConfig& c) { return json(c.*member); },
          [member](TrainConfig& c, const json& j) { c.*member = j.get<T>(); }};
}

// A value of the right JSON type that the setting still cannot take; update_from_json
// words it for the flag or the file.
struct BadValue {
  std::string why;
};

Field size_field(std::string name, std::string help, int64_t TrainConfig::*w, int64_t TrainConfig::*h) {
  return {std::move(name), "WxH", std::move(help), Kind::Size,
          [w, h](const TrainConfig& c) { return json(std::to_string(c.*w) + "x" + std::to_string(c.*h)); },
          [w, h](TrainConfig& c, const json& j) {
            const std::string s = j.get<std::string>();
            const auto size = cli::parse_size(s);
            if (!size) throw BadValue{"expects WIDTHxHEIGHT such as 512x256, got " + cli::quoted(s)};
            c.*w = size->first;
            c.*h = size->second;
          }};
}

Field onoff_field(std::string name, std::string help, bool TrainConfig::*member) {
  return {std::move(name), "on|off", std::move(help), Kind::OnOff,
          [member](const TrainConfig& c) { return json(c.*member); },
          [member](TrainConfig& c, const json& j) { c.*member = j.get<bool>(); }};
}

const std::vector<Field>& fields() {
  static const std::vector<Field> all = [] {
    using C = TrainConfig;
    std::vector<Field> f;
    f.push_back(field("dataset", "NAME", "cityscapes, camvid or synthetic (built in, no download; "
                      "the default is cityscapes and needs --root)", Kind::Text, &C::dataset));
    f.push_back(field("root", "DIR", "dataset folder (cityscapes: holds leftImg8bit/ and gtFine/; "
                      "camvid: train/, trainannot/, ...)", Kind::Text, &C::root));
    f.push_back(field("train-split", "NAME", "split trained on", Kind::Text, &C::train_split));
    f.push_back(field("val-split", "NAME", "split validated on", Kind::Text, &C::val_split));
    f.push_back(size_field("crop", "training crop, width x height", &C::crop_width, &C::crop_height));
    f.push_back(field("scale-range", "MIN,MAX", "random scale of the full image before cropping; auto: "
                      "the authors' (cityscapes 0.25,0.5 up to 512x256 crops, else 0.35,1.0; camvid 0.35,1.0; "
                      "synthetic 0.75,1.5)", Kind::Text, &C::scale_range));
    f.push_back(field("jitter", "on|off|auto", "colour jitter (auto: on for cityscapes, as the authors, and synthetic)",
                      Kind::Text, &C::jitter));
    f.push_back(onoff_field("flip", "random horizontal flip", &C::flip));
    f.push_back(field("skip-bad", "", "skip (and count) unreadable samples instead of stopping",
                      Kind::Switch, &C::skip_bad));
    f.push_back(field("max-pixels", "N", "refuse images larger than N pixels (read from each file's header "
                      "before decoding)", Kind::Int, &C::max_pixels));
    f.push_back(size_field("synthetic-size", "size of the built-in synthetic scenes", &C::synthetic_width,
                           &C::synthetic_height));
    f.push_back(field("synthetic-train", "N", "synthetic training scenes", Kind::Int, &C::synthetic_train));
    f.push_back(field("synthetic-val", "N", "synthetic validation scenes", Kind::Int, &C::synthetic_val));
    f.push_back(field("batch", "N", "images per iteration", Kind::Int, &C::batch));
    f.push_back(field("iters", "N", "total iterations (0: --epochs x batches per epoch)", Kind::Int, &C::iters));
    f.push_back(field("epochs", "N", "epochs, when --iters is 0", Kind::Int, &C::epochs));
    f.push_back(field("lr", "X", "base learning rate of the poly schedule", Kind::Number, &C::lr));
    f.push_back(field("poly-power", "X", "lr = base * (1 - i/total)^power", Kind::Number, &C::poly_power));
    f.push_back(field("warmup-iters", "N", "linear warm-up from 0 over N iterations, then poly over the rest",
                      Kind::Int, &C::warmup_iters));
    f.push_back(field("momentum", "X", "SGD momentum", Kind::Number, &C::momentum));
    f.push_back(field("weight-decay", "X", "SGD weight decay (added to the gradient, as PyTorch)",
                      Kind::Number, &C::weight_decay));
    f.push_back(field("class-weights", "W", "none, authors (their Cityscapes/CamVid table) or a "
                      "comma-separated list, one per class", Kind::Text, &C::class_weights));
    f.push_back(field("loss", "ce|ohem", "cross-entropy, or OHEM cross-entropy (threshold "
                      "--ohem-threshold, at least N*H*W/16 pixels kept)", Kind::Text, &C::loss));
    f.push_back(field("ohem-threshold", "P", "OHEM keeps pixels whose true-class probability is below P",
                      Kind::Number, &C::ohem_threshold));
    f.push_back(field("aux-weight", "X", "weight of the two deep-supervision losses (1: the plain sum; "
                      "the authors' released script uses 0.1)", Kind::Number, &C::aux_weight));
    f.push_back(field("freeze-bn", "", "freeze batch norm: evaluation statistics, no updates of "
                      "statistics or affine parameters (the authors' stage 2)", Kind::Switch, &C::freeze_bn));
    f.push_back(field("init", "FILE", "initial weights (a weights file or a checkpoint; stage 2 starts "
                      "from stage 1's best.safetensors)", Kind::Text, &C::init));
    f.push_back(field("activation", "gelu|prelu", "the network's activation", Kind::Text, &C::activation));
    f.push_back(field("device", "auto|cpu|cuda", "where to train (auto: cuda when a GPU is present, else cpu)",
                      Kind::Text, &C::device));
    f.push_back(field("workers", "N", "loader threads (0: min(4, cores))", Kind::Int, &C::workers));
    f.push_back(field("seed", "N", "seed of the initial weights, sample order and augmentation",
                      Kind::Int, &C::seed));
    f.push_back(field("out", "DIR", "run folder: checkpoints, log.jsonl, curves.svg, config.json",
                      Kind::Text, &C::out));
    f.push_back(field("val-every", "N", "validate every N iterations (0: once per epoch; -1: only at the end)",
                      Kind::Int, &C::val_every));
    f.push_back(field("val-scale", "S", "evaluation resize factor (0: auto, 0.5 for cityscapes as the "
                      "authors, 1 otherwise)", Kind::Number, &C::val_scale));
    f.push_back(field("val-limit", "N", "validate on the first N images only (0: all)", Kind::Int, &C::val_limit));
    f.push_back(field("val-at-start", "", "also validate the initial weights, before the first iteration",
                      Kind::Switch, &C::val_at_start));
    f.push_back(field("log-every", "N", "a log record (and a plain progress line) every N iterations",
                      Kind::Int, &C::log_every));
    f.push_back(field("save-every", "N", "also write last.safetensors every N iterations (0: only at "
                      "validations, Ctrl-C and the end)", Kind::Int, &C::save_every));
    f.push_back(field("stop-after", "N", "stop after iteration N as Ctrl-C would (saving last); resume "
                      "later with --resume", Kind::Int, &C::stop_after));
    f.push_back(field("sync-bn", "", "under mpirun: batch norm statistics over the whole batch of every rank "
                      "(N ranks of b images train as one process of N*b)", Kind::Switch, &C::sync_bn));
    f.push_back(field("comm-timeout", "S", "under mpirun: seconds a rank waits for the others in a collective "
                      "before every rank is stopped with a message", Kind::Number, &C::comm_timeout));
    f.push_back(onoff_field("grad-overlap", "under mpirun: all-reduce gradient buckets while backward runs "
                            "(off: all at once after it)", &C::grad_overlap));
    return f;
  }();
  return all;
}

const Field* find_field(const std::string& name) {
  for (const Field& f : fields())
    if (f.name == name) return &f;
  return nullptr;
}

// A flag's text as the JSON value its setting stores.
json parse_flag_value(const Field& f, const std::string& text) {
  switch (f.kind) {
    case Kind::Text:
    case Kind::Size: return json(text);
    case Kind::Switch: return json(true);
    case Kind::OnOff:
      if (text == "on" || text == "true" || text == "1" || text == "yes") return json(true);
      if (text == "off" || text == "false" || text == "0" || text == "no") return json(false);
      PMSDSEN_FAIL("train: --", f.name, " expects on or off, got '", text, "'");
    case Kind::Int: {
      const std::optional<int64_t> v = cli::parse_int64(text);
      PMSDSEN_CHECK(v.has_value(), "train: --", f.name, " expects an integer from ", INT64_MIN, " to ", INT64_MAX,
                    ", got ", cli::quoted(text));
      return json(*v);
    }
    case Kind::Number: {
      const std::optional<double> v = cli::parse_finite(text);
      PMSDSEN_CHECK(v.has_value(), "train: --", f.name, " expects a finite number, got ", cli::quoted(text));
      return json(*v);
    }
  }
  return json();
}

std::string default_text(const Field& f) {
  const json v = f.get(TrainConfig{});
  if (f.kind == Kind::Switch) return "";
  if (f.kind == Kind::OnOff) return v.get<bool>() ? "on" : "off";
  if (v.is_string()) return v.get<std::string>().empty() ? "" : v.get<std::string>();
  if (v.is_number_float()) {
    std::ostringstream os;
    os << v.get<double>();
    return os.str();
  }
  return v.dump();
}

}  // namespace

json to_json(const TrainConfig& config) {
  json j = json::object();
  for (const Field& f : fields()) j[f.name] = f.get(config);
  return j;
}

void update_from_json(TrainConfig& config, const json& j, const std::string& source) {
  PMSDSEN_CHECK(j.is_object(), source, ": a training config must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    const Field* f = find_field(it.key());
    PMSDSEN_CHECK(f != nullptr, source, ": unknown setting ", cli::quoted(it.key()),
                  " (the settings are the flags of 'pmsdsen train --help')");
    // The flag itself when the value came from the command line, else the file's key.
    const std::string where =
        source == kCommandLine ? "train: --" + f->name : source + ": setting '" + f->name + "'";
    const json& v = it.value();
    const bool type_ok =
        (f->kind == Kind::Text || f->kind == Kind::Size) ? v.is_string()
        : (f->kind == Kind::Switch || f->kind == Kind::OnOff) ? v.is_boolean()
        : f->kind == Kind::Int ? v.is_number_integer() &&
                                     (!v.is_number_unsigned() || v.get<uint64_t>() <= uint64_t(INT64_MAX))
                               : v.is_number() && std::isfinite(v.get<double>());
    PMSDSEN_CHECK(type_ok, where, " has the wrong type or range: ", v.is_primitive() ? v.dump() : v.type_name(),
                  " (expected ",
                  f->kind == Kind::Int ? "a 64-bit integer"
                  : f->kind == Kind::Number ? "a finite number"
                  : (f->kind == Kind::Switch || f->kind == Kind::OnOff) ? "true or false"
                                                                        : "a string",
                  ")");
    try {
      f->set(config, v);
    } catch (const BadValue& e) {
      PMSDSEN_FAIL(where, " ", e.why);
    } catch (const json::exception& e) {
      PMSDSEN_FAIL(where, ": ", json_error_text(e));
    }
  }
}

TrainConfig config_from_json(const json& j, const std::string& source) {
  TrainConfig c;
  update_from_json(c, j, source);
  return c;
}

json parse_config_text(const std::string& text, const std::string& source) {
  return parse_json(text, kConfigMaxNesting, str("train: config file '", source, "'"));
}

std::vector<cli::FlagSpec> train_flag_specs() {
  std::vector<cli::FlagSpec> specs;
  specs.push_back({"config", "FILE", "JSON settings (keys are these flag names); flags given here override it", ""});
  specs.push_back({"resume", "DIR", "continue the run in DIR from its last.safetensors (its settings; flags "
                   "given here override them)", ""});
  specs.push_back({"overwrite", "", "start a new run in an --out folder that holds one (its checkpoints are replaced)",
                   ""});
  for (const Field& f : fields()) specs.push_back({f.name, f.value, f.help, default_text(f)});
  return specs;
}

std::vector<std::string> apply_flags(TrainConfig& config, const cli::Args& args) {
  std::vector<std::string> given;
  json j = json::object();
  for (const Field& f : fields()) {
    if (!args.has(f.name)) continue;
    j[f.name] = parse_flag_value(f, args.get(f.name));
    given.push_back(f.name);
  }
  update_from_json(config, j, kCommandLine);
  return given;
}

}  // namespace pmsdsen::train
