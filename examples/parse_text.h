#pragma once
// Numbers and sizes as users type them on the command line and in config files: the
// whole text must be the value, and a value out of range is no value (never clamped).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace pmsdsen::cli {

std::optional<int64_t> parse_int64(const std::string& text);
// Finite numbers only ("inf" and "nan" are refused).
std::optional<double> parse_finite(const std::string& text);
// "512x256" -> {512, 256}; both positive.
std::optional<std::pair<int64_t, int64_t>> parse_size(const std::string& text);

// Short enough to quote in a message.
std::string quoted(const std::string& text);

}  // namespace pmsdsen::cli
