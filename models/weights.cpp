#include "models/weights.h"

#include <cerrno>
#include <cstdlib>
#include <set>

namespace pmsdsen {
namespace {

void check_classes(int64_t classes, const std::string& path, const char* source) {
  PMSDSEN_CHECK(classes <= kPmsdsenMaxClasses, "'", path, "': ", source, " says ", classes,
                " classes; PMSDSEN has at most ", kPmsdsenMaxClasses, " (labels are 8-bit, 255 = ignore)");
}

constexpr const char* kHeadWeight = "seg_head_x2.3.weight";
constexpr const char* kPReLUSlope = "Stem_Conv.2.weight";

int64_t parse_classes(const std::string& text, const std::string& path) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  PMSDSEN_CHECK(!text.empty() && *end == '\0' && errno == 0 && v > 0, "'", path, "': metadata classes='",
                text.substr(0, 40), text.size() > 40 ? "...'" : "'", " is not a positive integer");
  check_classes(v, path, "metadata classes");
  return v;
}

}  // namespace

PmsdsenConfig weights_config(const Safetensors& file, const std::string& path) {
  PmsdsenConfig config;
  if (auto it = file.metadata.find("classes"); it != file.metadata.end()) {
    config.classes = parse_classes(it->second, path);
  } else if (auto h = file.tensors.find(kHeadWeight); h != file.tensors.end()) {
    PMSDSEN_CHECK(h->second.dim() == 4 && h->second.size(0) > 0, "'", path, "': ", kHeadWeight, " has shape ",
                  shape_str(h->second.shape()), ", expected [classes, 16, 1, 1]");
    config.classes = h->second.size(0);
    check_classes(config.classes, path, kHeadWeight);
  } else {
    PMSDSEN_FAIL("'", path, "' holds no PMSDSEN weights: no '", kHeadWeight,
                 "' tensor and no 'classes' metadata");
  }
  if (auto it = file.metadata.find("act"); it != file.metadata.end()) {
    try {
      config.act = parse_activation(it->second);
    } catch (const Error& e) {
      PMSDSEN_FAIL("'", path, "': metadata act: ", e.what());
    }
  } else {
    config.act = file.tensors.count(kPReLUSlope) ? Activation::PReLU : Activation::GELU;
  }
  return config;
}

PmsdsenConfig config_for_weights(const Safetensors& file, const std::string& path, std::optional<int64_t> classes,
                                 std::optional<Activation> act, const std::string& classes_source) {
  const PmsdsenConfig config = weights_config(file, path);
  PMSDSEN_CHECK(!classes || *classes == config.classes, "'", path, "': weights are for ", config.classes,
                " classes, ", classes_source, " ", *classes);
  PMSDSEN_CHECK(!act || *act == config.act, "'", path, "': weights are for ", activation_name(config.act),
                " activations, --act says ", activation_name(*act));
  return config;
}

void load_weights(PMSDSEN& model, const Safetensors& file, const std::string& path) {
  // Every problem first, in the model's order, before anything is copied.
  LoadReport report;
  std::set<std::string> known;
  auto check = [&](const std::vector<std::pair<std::string, Tensor>>& expected) {
    for (const auto& [name, t] : expected) {
      known.insert(name);
      auto it = file.tensors.find(name);
      if (it == file.tensors.end())
        report.missing.push_back(name);
      else if (it->second.shape() != t.shape())
        report.mismatched.push_back(str(name, ": file ", shape_str(it->second.shape()), " vs model ",
                                        shape_str(t.shape())));
      else if (is_floating(it->second.dtype()) != is_floating(t.dtype()))
        report.mismatched.push_back(str(name, ": file holds ", dtype_name(it->second.dtype()), ", the model ",
                                        dtype_name(t.dtype())));
    }
  };
  check(model.named_parameters());
  check(model.named_buffers());
  for (const auto& [name, t] : file.tensors)
    if (!known.count(name)) report.unexpected.push_back(name);
  PMSDSEN_CHECK(report.ok(), "'", path, "' does not fit PMSDSEN(classes ", model.config().classes, ", ",
                activation_name(model.config().act), "):\n", report.summary());
  model.load_state_dict(file.tensors, true);
}

void load_weights(PMSDSEN& model, const std::string& path) { load_weights(model, load_safetensors(path), path); }

std::unique_ptr<PMSDSEN> load_pmsdsen(const std::string& path, std::optional<int64_t> classes,
                                      std::optional<Activation> act) {
  const Safetensors file = load_safetensors(path);
  auto model = std::make_unique<PMSDSEN>(config_for_weights(file, path, classes, act));
  load_weights(*model, file, path);
  return model;
}

void save_weights(const PMSDSEN& model, const std::string& path) {
  save_safetensors(path, model.state_dict(),
                   {{"format", "pmsdsen"},
                    {"classes", std::to_string(model.config().classes)},
                    {"act", activation_name(model.config().act)}});
}

}  // namespace pmsdsen
