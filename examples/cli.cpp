#include "examples/cli.h"

#include <cstdint>
#include <sstream>

#include "core/error.h"
#include "examples/parse_text.h"

namespace pmsdsen::cli {

std::map<std::string, Command>& registry() {
  static std::map<std::string, Command> commands;
  return commands;
}

Args::Args(std::string command, std::vector<FlagSpec> specs, const std::vector<std::string>& argv)
    : command_(std::move(command)), specs_(std::move(specs)) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "-h" || a == "--help") {
      help_ = true;
      continue;
    }
    if (a.rfind("--", 0) != 0) {
      positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    const FlagSpec& s = spec(name);
    if (s.value.empty()) {
      PMSDSEN_CHECK(!inline_value, command_, ": --", name, " takes no value");
      value = "1";
    } else if (!inline_value) {
      PMSDSEN_CHECK(i + 1 < argv.size(), command_, ": --", name, " needs a value (", s.value, ")");
      value = argv[++i];
    }
    values_[name] = value;
  }
}

const FlagSpec& Args::spec(const std::string& name) const {
  for (const FlagSpec& s : specs_)
    if (s.name == name) return s;
  PMSDSEN_FAIL(command_, ": unknown option --", name, " (see 'pmsdsen ", command_, " --help')");
}

std::string Args::usage() const {
  std::ostringstream os;
  os << "options:\n";
  for (const FlagSpec& s : specs_) {
    std::string left = "  --" + s.name + (s.value.empty() ? "" : " " + s.value);
    os << left;
    os << std::string(left.size() < 30 ? 30 - left.size() : 1, ' ') << s.help;
    if (!s.default_value.empty()) os << " (default " << s.default_value << ")";
    os << "\n";
  }
  os << "  --help                      this text\n";
  return os.str();
}

bool Args::has(const std::string& name) const {
  spec(name);
  return values_.count(name) > 0;
}

std::string Args::get(const std::string& name) const {
  const FlagSpec& s = spec(name);
  auto it = values_.find(name);
  return it != values_.end() ? it->second : s.default_value;
}

std::optional<std::string> Args::maybe(const std::string& name) const {
  spec(name);
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

int64_t Args::get_int(const std::string& name) const {
  const std::string v = get(name);
  const std::optional<int64_t> x = parse_int64(v);
  PMSDSEN_CHECK(x.has_value(), command_, ": --", name, " expects an integer from ", INT64_MIN, " to ", INT64_MAX,
                ", got ", quoted(v));
  return *x;
}

int64_t Args::get_int(const std::string& name, int64_t lo, int64_t hi) const {
  const int64_t x = get_int(name);
  PMSDSEN_CHECK(x >= lo && x <= hi, command_, ": --", name, " ", x, " is out of range: expected ", lo, " to ", hi);
  return x;
}

double Args::get_double(const std::string& name) const {
  const std::string v = get(name);
  const std::optional<double> x = parse_finite(v);
  PMSDSEN_CHECK(x.has_value(), command_, ": --", name, " expects a finite number, got ", quoted(v));
  return *x;
}

std::pair<int64_t, int64_t> Args::get_size(const std::string& name) const {
  const std::string v = get(name);
  const auto size = parse_size(v);
  PMSDSEN_CHECK(size.has_value(), command_, ": --", name, " expects WIDTHxHEIGHT such as 512x256, got ", quoted(v));
  return *size;
}

Device Args::get_device(const std::string& name) const {
  Device device;
  try {
    device = parse_device(get(name));
  } catch (const Error& e) {
    PMSDSEN_FAIL(command_, ": --", name, ": ", e.what());
  }
  require_device(device, command_.c_str());
  return device;
}

FlagSpec device_flag(const std::string& help) {
  return {"device", "auto|cpu|cuda", help + " (auto: cuda when a GPU is present, else cpu)", "auto"};
}

}  // namespace pmsdsen::cli
