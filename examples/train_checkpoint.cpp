#include "examples/train_checkpoint.h"

#include <cerrno>
#include <cmath>

#include "core/json_parse.h"
#include "core/safetensors.h"
#include "examples/train_config.h"

namespace pmsdsen::train {
namespace {

const std::string kModelPrefix = "model.";
const std::string kMomentumPrefix = "optim.momentum.";

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

std::string number_text(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

const std::string& required(const std::map<std::string, std::string>& meta, const std::string& key,
                            const std::string& path) {
  auto it = meta.find(key);
  PMSDSEN_CHECK(it != meta.end(), "checkpoint '", path, "': metadata has no '", key, "'");
  return it->second;
}

// A count in the run state: a non-negative integer.
int64_t parse_int(const std::string& text, const std::string& key, const std::string& path) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  PMSDSEN_CHECK(!text.empty() && *end == '\0' && errno == 0 && v >= 0, "checkpoint '", path, "': metadata '", key,
                "' = '", text.substr(0, 40), "' is not a non-negative integer");
  return v;
}

double parse_double(const std::string& text, const std::string& key, const std::string& path) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  PMSDSEN_CHECK(!text.empty() && *end == '\0', "checkpoint '", path, "': metadata '", key, "' = '",
                text.substr(0, 40), "' is not a number");
  return v;
}

}  // namespace

void save_checkpoint(const std::string& path, const Module& model,
                     const std::vector<std::pair<std::string, Tensor>>& momentum, const RunState& state) {
  std::map<std::string, Tensor> tensors;
  for (const auto& [name, t] : model.state_dict()) tensors.emplace(kModelPrefix + name, t.detach());
  for (const auto& [name, buf] : momentum)
    if (buf.defined()) tensors.emplace(kMomentumPrefix + name, buf.detach());
  std::map<std::string, std::string> meta;
  meta["format"] = kCheckpointFormat;
  meta["format_version"] = std::to_string(kCheckpointVersion);
  meta["iteration"] = std::to_string(state.iteration);
  meta["epoch"] = std::to_string(state.epoch);
  meta["best_miou"] = number_text(state.best_miou);
  meta["best_iteration"] = std::to_string(state.best_iteration);
  meta["last_miou"] = number_text(state.last_miou);
  meta["seed"] = std::to_string(state.seed);
  meta["config"] = state.config.dump();
  save_safetensors(path, tensors, meta);
}

Checkpoint load_checkpoint(const std::string& path) { return parse_checkpoint(load_safetensors(path), path); }

Checkpoint parse_checkpoint(Safetensors file, const std::string& path) {
  const auto& meta = file.metadata;
  auto format = meta.find("format");
  PMSDSEN_CHECK(format != meta.end() && format->second == kCheckpointFormat, "'", path,
                "' is not a pmsdsen training checkpoint (no format '", kCheckpointFormat,
                "' in its metadata); a weights file goes to --init or --weights");
  const int64_t version = parse_int(required(meta, "format_version", path), "format_version", path);
  PMSDSEN_CHECK(version == kCheckpointVersion, "checkpoint '", path, "': format version ", version,
                ", this build reads version ", kCheckpointVersion);
  Checkpoint c;
  c.path = path;
  RunState& s = c.state;
  s.iteration = parse_int(required(meta, "iteration", path), "iteration", path);
  s.epoch = parse_int(required(meta, "epoch", path), "epoch", path);
  s.best_miou = parse_double(required(meta, "best_miou", path), "best_miou", path);
  s.best_iteration = parse_int(required(meta, "best_iteration", path), "best_iteration", path);
  s.last_miou = parse_double(required(meta, "last_miou", path), "last_miou", path);
  s.seed = parse_int(required(meta, "seed", path), "seed", path);
  s.config = parse_json(required(meta, "config", path), kConfigMaxNesting,
                        str("checkpoint '", path, "': malformed config JSON in its metadata"));
  for (auto& [name, t] : file.tensors) {
    if (starts_with(name, kModelPrefix)) c.model.emplace(name.substr(kModelPrefix.size()), std::move(t));
    else if (starts_with(name, kMomentumPrefix)) c.momentum.emplace(name.substr(kMomentumPrefix.size()), std::move(t));
    else PMSDSEN_FAIL("checkpoint '", path, "': unexpected tensor '", name, "'");
  }
  PMSDSEN_CHECK(!c.model.empty(), "checkpoint '", path, "' holds no model tensors");
  return c;
}

Safetensors load_weights_file(const std::string& path) { return weights_in_file(load_safetensors(path)); }

Safetensors weights_in_file(Safetensors file) {
  auto format = file.metadata.find("format");
  if (format == file.metadata.end() || format->second != kCheckpointFormat) return file;
  Safetensors weights;
  for (auto& [name, t] : file.tensors)
    if (starts_with(name, kModelPrefix)) weights.tensors.emplace(name.substr(kModelPrefix.size()), std::move(t));
  try {
    const nlohmann::json config = parse_json(file.metadata.at("config"), kConfigMaxNesting, "checkpoint config");
    if (config.is_object() && config.contains("activation") && config["activation"].is_string())
      weights.metadata["act"] = config["activation"].get<std::string>();
  } catch (const std::exception&) {
    // no usable config: the activation is inferred from the tensors
  }
  return weights;
}

bool all_finite(const Module& model) {
  for (const auto& [name, t] : model.state_dict()) {
    if (!is_floating(t.dtype())) continue;
    const Tensor h = t.detach().cpu().to(DType::F64);
    const double* p = h.data<double>();
    for (int64_t i = 0; i < h.numel(); ++i)
      if (!std::isfinite(p[i])) return false;
  }
  return true;
}

}  // namespace pmsdsen::train
