#include "io/JsonText.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>

#include <spdlog/spdlog.h>

namespace bg {

nlohmann::json parseJsonText(const std::string& text, const std::string& source, ErrorCode code) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // nlohmann counts bytes; the user counts lines.
    const auto at = std::min<std::size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
    const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<long>(at), '\n');
    const auto lineStart = text.rfind('\n', at == 0 ? 0 : at - 1);
    const auto column = at - (lineStart == std::string::npos ? 0 : lineStart + 1) + 1;
    std::string what = e.what();
    if (const auto p = what.find("parse error"); p != std::string::npos) what = what.substr(p);
    throw Error(code, (source.empty() ? std::string("the text") : source) + " is not valid JSON (line " + std::to_string(line) + ", column " +
                          std::to_string(column) + "): " + what);
  } catch (const nlohmann::json::exception& e) {
    // A number beyond a double's range (out_of_range 406): no position from the parser.
    std::string what = e.what();
    if (const auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    if (what.size() > 100) what = what.substr(0, 97) + "...";
    throw Error(code, (source.empty() ? std::string("the text") : source) + " is not valid JSON: " + what);
  }
}

}  // namespace bg

namespace bg {
namespace {
bool g_lenient = false;

std::size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t next = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = row[j];
      row[j] = next;
    }
  }
  return row[b.size()];
}

std::string typeName(const nlohmann::json& v) {
  if (v.is_boolean()) return "true or false";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "a list";
  if (v.is_object()) return "an object";
  return "null";
}

bool sameKind(const nlohmann::json& given, const nlohmann::json& expected) {
  if (expected.is_null()) return true;  // optional values default to null and take several kinds
  if (expected.is_number_unsigned()) return given.is_number_unsigned() || (given.is_number_integer() && given.get<std::int64_t>() >= 0);
  if (expected.is_number_integer()) return given.is_number_integer();
  if (expected.is_number()) return given.is_number();
  if (expected.is_array() && given.is_array() && !expected.empty()) {
    for (const auto& element : given)
      if (!sameKind(element, expected.front())) return false;
    return true;
  }
  return given.type() == expected.type();
}

std::string expectedName(const nlohmann::json& expected) {
  if (expected.is_number_unsigned()) return "a whole number, 0 or more";
  if (expected.is_number_integer()) return "a whole number";
  if (expected.is_array() && !expected.empty()) return "a list of " + expectedName(expected.front()).substr(2) + "s";
  return typeName(expected);
}

// Whole numbers are read as C++ ints: a value beyond their range is refused here, not wrapped.
bool fitsInt(const nlohmann::json& given, const nlohmann::json& expected) {
  if (!expected.is_number_integer() || !given.is_number_integer()) return true;
  if (given.is_number_unsigned()) return given.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<int>::max());
  const auto v = given.get<std::int64_t>();
  return v >= std::numeric_limits<int>::min() && v <= std::numeric_limits<int>::max();
}

std::string shortDump(const nlohmann::json& v) {
  auto text = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}
}  // namespace

// Also in the environment: the model library (loaded at run time) has its own copy of this file's state.
void setLenientConfiguration(bool lenient) {
  g_lenient = lenient;
  if (lenient)
    ::setenv("BRAINGRAPH_LENIENT_CONFIGURATION", "1", 1);
  else
    ::unsetenv("BRAINGRAPH_LENIENT_CONFIGURATION");
}
bool lenientConfiguration() {
  const char* v = std::getenv("BRAINGRAPH_LENIENT_CONFIGURATION");
  return g_lenient || (v && std::string(v) == "1");
}

void checkConfigurationKeys(const nlohmann::json& given, const nlohmann::json& defaults, const std::string& where, const std::vector<std::string>& freeForm) {
  if (!given.is_object() || !defaults.is_object()) return;
  for (const auto& [key, value] : given.items()) {
    if (!defaults.contains(key)) {
      std::string closest;
      std::size_t best = std::string::npos;
      for (const auto& [known, unused] : defaults.items())
        if (const auto d = editDistance(key, known); d < best) {
          best = d;
          closest = known;
        }
      const std::string hint = !closest.empty() && best <= std::max<std::size_t>(2, key.size() / 3) ? " (did you mean '" + closest + "'?)" : "";
      const std::string message = where + ": unknown key '" + key + "'" + hint;
      if (lenientConfiguration()) {
        spdlog::warn("{}; ignored (--lenient)", message);
        continue;
      }
      throw Error(
          ErrorCode::Config, message + "; valid keys: " + [&] {
            std::string list;
            for (const auto& [known, unused] : defaults.items()) list += (list.empty() ? "" : ", ") + known;
            return list;
          }() + " (--lenient only warns)");
    }
    const auto& expected = defaults.at(key);
    if (std::find(freeForm.begin(), freeForm.end(), key) != freeForm.end()) continue;  // another reader checks it
    if (!sameKind(value, expected))
      throw Error(ErrorCode::Config, where + ": '" + key + "' must be " + expectedName(expected) + ", not " + typeName(value) + " (" + shortDump(value) + ")");
    if (!fitsInt(value, expected)) throw Error(ErrorCode::Config, where + ": '" + key + "' is out of range (" + shortDump(value) + ")");
    if (value.is_object()) checkConfigurationKeys(value, expected, where + " › " + key, freeForm);
  }
}

}  // namespace bg
