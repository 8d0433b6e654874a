#include "core/json_parse.h"

#include "core/error.h"

namespace pmsdsen {
namespace {

struct TooDeep {};

}  // namespace

std::string json_error_text(const std::exception& e) {
  const std::string text = e.what();
  if (text.rfind("[json.exception.", 0) == 0) {
    const size_t end = text.find("] ");
    if (end != std::string::npos) return text.substr(end + 2);
  }
  return text;
}

nlohmann::json parse_json(const std::string& text, int max_nesting, const std::string& what) {
  using Event = nlohmann::json::parse_event_t;
  // The callback sees an object or array open at depth d when d containers enclose it.
  auto limit = [max_nesting](int depth, Event event, nlohmann::json&) {
    if ((event == Event::object_start || event == Event::array_start) && depth >= max_nesting) throw TooDeep{};
    return true;
  };
  try {
    return nlohmann::json::parse(text, limit);
  } catch (const TooDeep&) {
    PMSDSEN_FAIL(what, ": objects and arrays nested more than ", max_nesting, " deep");
  } catch (const nlohmann::json::exception& e) {
    PMSDSEN_FAIL(what, ": not valid JSON (", json_error_text(e), ")");
  }
}

}  // namespace pmsdsen
