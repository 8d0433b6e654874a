#include "layers/module.h"

#include <algorithm>
#include <map>
#include <set>

#include "autograd/grad_mode.h"

namespace pmsdsen {

namespace {

// Lists up to kListAll entries in full (a class-count mismatch touches 18 tensors); longer
// ones are grouped into at most kMaxLines lines.
constexpr size_t kListAll = 24, kMaxLines = 12;

// "a.b.weight: file [1] vs model []" -> "*.weight: file [1] vs model []": the key under
// which a long list is counted.
std::string group_key(const std::string& entry) {
  const size_t colon = entry.find(": ");
  const std::string name = entry.substr(0, colon);
  const size_t dot = name.find_last_of('.');
  const std::string last = dot == std::string::npos ? name : "*" + name.substr(dot);
  return colon == std::string::npos ? last : last + entry.substr(colon);
}

// Entries sharing a key (e.g. the 279 num_batches_tracked of a
// file saved with another dtype) counted on one line, with the first as an example.
std::string list_lines(const std::vector<std::string>& entries) {
  std::string s;
  if (entries.size() <= kListAll) {
    for (const std::string& e : entries) s += "\n  " + e;
    return s;
  }
  std::vector<std::string> keys;
  std::map<std::string, std::vector<const std::string*>> groups;
  for (const std::string& e : entries) {
    auto& g = groups[group_key(e)];
    if (g.empty()) keys.push_back(group_key(e));
    g.push_back(&e);
  }
  std::stable_sort(keys.begin(), keys.end(),
                   [&](const std::string& a, const std::string& b) { return groups[a].size() > groups[b].size(); });
  size_t shown = 0, lines = 0;
  for (const std::string& k : keys) {
    if (lines == kMaxLines) break;
    const auto& g = groups[k];
    s += g.size() == 1 ? "\n  " + *g[0] : str("\n  ", g.size(), " x ", k, " (e.g. ", *g[0], ")");
    shown += g.size();
    ++lines;
  }
  if (shown < entries.size()) s += str("\n  ... and ", entries.size() - shown, " more");
  return s;
}

}  // namespace

std::string LoadReport::summary() const {
  std::string s;
  auto list = [&](const char* what, const std::vector<std::string>& names) {
    if (names.empty()) return;
    s += str(names.size(), " ", what, ":", list_lines(names), "\n");
  };
  list("missing tensors", missing);
  list("unexpected tensors", unexpected);
  list("tensors with the wrong shape", mismatched);
  return s.empty() ? "all tensors match" : s;
}

Tensor Module::forward(const Tensor&) {
  PMSDSEN_FAIL(type_name(), ": this module has no single-input forward");
}

template <class F>
void Module::visit_tensors(const std::string& prefix, bool params, bool buffers, F&& f) {
  if (params)
    for (auto& [name, t] : params_) f(prefix + name, *t, true);
  if (buffers)
    for (auto& [name, t] : buffers_) f(prefix + name, *t, false);
  for (auto& [name, child] : children_) child->visit_tensors(prefix + name + ".", params, buffers, f);
}

template <class F>
void Module::visit_tensors(const std::string& prefix, bool params, bool buffers, F&& f) const {
  if (params)
    for (const auto& [name, t] : params_) f(prefix + name, static_cast<const Tensor&>(*t), true);
  if (buffers)
    for (const auto& [name, t] : buffers_) f(prefix + name, static_cast<const Tensor&>(*t), false);
  for (const auto& [name, child] : children_)
    static_cast<const Module&>(*child).visit_tensors(prefix + name + ".", params, buffers, f);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  visit_tensors("", true, false, [&](const std::string& n, const Tensor& t, bool) { out.emplace_back(n, t); });
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  std::vector<std::pair<std::string, Tensor>> out;
  visit_tensors("", false, true, [&](const std::string& n, const Tensor& t, bool) { out.emplace_back(n, t); });
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

int64_t Module::parameter_count() const {
  int64_t n = 0;
  for (const Tensor& t : parameters()) n += t.numel();
  return n;
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  visit_tensors("", true, true, [&](const std::string& n, const Tensor& t, bool) { out.emplace(n, t); });
  return out;
}

LoadReport Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  LoadReport report;
  std::set<std::string> known;
  visit_tensors("", true, true, [&](const std::string& name, Tensor& t, bool) {
    known.insert(name);
    auto it = state.find(name);
    if (it == state.end()) {
      report.missing.push_back(name);
    } else if (it->second.shape() != t.shape()) {
      report.mismatched.push_back(str(name, ": file ", shape_str(it->second.shape()), " vs model ",
                                      shape_str(t.shape())));
    }
  });
  for (const auto& [name, t] : state)
    if (!known.count(name)) report.unexpected.push_back(name);
  if (strict && !report.ok()) PMSDSEN_FAIL("load_state_dict: ", report.summary());

  autograd::NoGradGuard no_grad;
  visit_tensors("", true, true, [&](const std::string& name, Tensor& t, bool) {
    auto it = state.find(name);
    if (it == state.end() || it->second.shape() != t.shape()) return;
    const Tensor& src = it->second;
    PMSDSEN_CHECK(is_floating(src.dtype()) == is_floating(t.dtype()), "load_state_dict: '", name,
                  "' is ", src.str(), ", the model holds ", t.str());
    t.copy_(src.to(t.dtype()).to(t.device()));
  });
  return report;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::set_fused_inference(bool on) {
  fused_inference_ = on;
  for (auto& [name, child] : children_) child->set_fused_inference(on);
}

bool Module::fused_now() const {
  return fused_inference_ && !training_ && !autograd::GradMode::is_enabled();
}

void Module::to(Device device) {
  require_device(device, "Module::to");
  visit_tensors("", true, true, [&](const std::string&, Tensor& t, bool is_param) {
    // Integer buffers are counters read and written by the host: they stay there.
    if (t.device() == device || !is_floating(t.dtype())) return;
    Tensor moved = t.detach().to(device);
    if (is_param) moved.set_requires_grad(true);
    t = moved;
  });
}

void Module::to(DType dtype) {
  PMSDSEN_CHECK(is_floating(dtype), "Module::to: parameters must be float32 or float64");
  visit_tensors("", true, true, [&](const std::string&, Tensor& t, bool is_param) {
    if (!is_floating(t.dtype()) || t.dtype() == dtype) return;
    Tensor converted = t.detach().to(dtype);
    if (is_param) converted.set_requires_grad(true);
    t = converted;
  });
}

Device Module::device() const {
  // Where the floating-point tensors are: integer buffers (BN's num_batches_tracked)
  // stay on the host whatever the device.
  Device d = Device::cpu();
  bool found = false;
  visit_tensors("", true, true, [&](const std::string&, const Tensor& t, bool) {
    if (found || !is_floating(t.dtype())) return;
    d = t.device();
    found = true;
  });
  return d;
}

void Module::zero_grad() {
  visit_tensors("", true, false, [](const std::string&, Tensor& t, bool) { t.set_grad(Tensor()); });
}

Tensor& Module::register_parameter(const std::string& name, Tensor value) {
  check_defined(value, "register_parameter", name.c_str());
  value.set_requires_grad(true);
  params_.emplace_back(name, std::make_unique<Tensor>(std::move(value)));
  return *params_.back().second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor value) {
  check_defined(value, "register_buffer", name.c_str());
  buffers_.emplace_back(name, std::make_unique<Tensor>(std::move(value)));
  return *buffers_.back().second;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  PMSDSEN_CHECK(module != nullptr, "register_module '", name, "': null module");
  for (const auto& [n, c] : children_)
    PMSDSEN_CHECK(n != name, "register_module: duplicate name '", name, "'");
  children_.emplace_back(name, std::move(module));
}

}  // namespace pmsdsen
