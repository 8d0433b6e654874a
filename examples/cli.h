#pragma once
// The `pmsdsen` command line: a registry of subcommands and a small flag parser.
// Each subcommand lives in its own file and registers itself with PMSDSEN_COMMAND.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/device.h"

namespace pmsdsen::cli {

struct FlagSpec {
  std::string name;       // without the leading "--"
  std::string value;      // placeholder shown in help ("N", "FILE"); empty for a switch
  std::string help;
  std::string default_value;  // shown in help; empty when none
};

// Parsed flags of one subcommand. Accepts "--name value" and "--name=value"; rejects
// unknown flags and missing values with a message naming the flag.
class Args {
 public:
  Args(std::string command, std::vector<FlagSpec> specs, const std::vector<std::string>& argv);

  bool help_requested() const { return help_; }
  std::string usage() const;  // the help text

  bool has(const std::string& name) const;  // given on the command line
  bool flag(const std::string& name) const { return has(name); }
  std::string get(const std::string& name) const;  // given value, else the spec default
  std::optional<std::string> maybe(const std::string& name) const;
  int64_t get_int(const std::string& name) const;
  // An integer in [lo, hi]; anything else is an error naming the flag and the range.
  int64_t get_int(const std::string& name, int64_t lo, int64_t hi) const;
  double get_double(const std::string& name) const;
  // "1024x512" -> {1024, 512}
  std::pair<int64_t, int64_t> get_size(const std::string& name) const;
  // The device a flag names (parse_device: auto resolved), checked to be usable
  // (require_device); errors name the command and the flag.
  Device get_device(const std::string& name = "device") const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  const FlagSpec& spec(const std::string& name) const;
  std::string command_;
  std::vector<FlagSpec> specs_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

// --device for every command that runs the network: auto (the default), cpu or cuda.
FlagSpec device_flag(const std::string& help);

struct Command {
  std::string name;
  std::string summary;
  std::function<int(const std::vector<std::string>& args)> run;
};

std::map<std::string, Command>& registry();

struct Registrar {
  explicit Registrar(Command c) { registry()[c.name] = std::move(c); }
};

}  // namespace pmsdsen::cli

#define PMSDSEN_COMMAND_CAT2(a, b) a##b
#define PMSDSEN_COMMAND_CAT(a, b) PMSDSEN_COMMAND_CAT2(a, b)
// PMSDSEN_COMMAND("info", "print the layer table", run_info);
#define PMSDSEN_COMMAND(name, summary, fn) \
  static ::pmsdsen::cli::Registrar PMSDSEN_COMMAND_CAT(pmsdsen_command_, __LINE__)({name, summary, fn})
