#pragma once
// JSON from files users hand us (safetensors headers, checkpoint metadata, training
// configs): parsed with a nesting limit, so that a hostile file cannot make anything
// recurse deeply, and with errors in plain words (nlohmann's "[json.exception...]" tag
// left out).
#include <string>

#include <nlohmann/json.hpp>

namespace pmsdsen {

// Parses `text`. Malformed text, or objects/arrays nested more than `max_nesting` deep,
// throw an Error starting with `what` ("'w.safetensors': safetensors header").
nlohmann::json parse_json(const std::string& text, int max_nesting, const std::string& what);

// The message of a nlohmann exception without its "[json.exception.type_error.302] " tag.
std::string json_error_text(const std::exception& e);

}  // namespace pmsdsen
