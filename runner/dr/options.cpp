#include "runner/dr/options.h"

#include <algorithm>
#include <climits>
#include <cmath>

#include "runner/common/duration.h"
#include "runner/dr/drill.h"

namespace faultline::dr {
namespace {

[[noreturn]] void bad(const char* function, const char* key, const std::string& what) {
  throw DrError(std::string(function) + ": option '" + key + "' " + what);
}

}  // namespace

void allow_keys(const json& options, const char* function,
                std::initializer_list<const char*> keys) {
  for (const auto& [key, value] : options.items()) {
    if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return key == k; })) {
      std::string known;
      for (const char* k : keys) known += (known.empty() ? "" : ", ") + std::string(k);
      throw DrError(std::string(function) + ": unknown option '" + key + "' (known: " + known +
                    ")");
    }
  }
}

std::string string_opt(const json& options, const char* function, const char* key, bool required) {
  if (!options.contains(key)) {
    if (required) bad(function, key, "is required");
    return "";
  }
  const json& v = options[key];
  if (!v.is_string() || v.get<std::string>().empty())
    bad(function, key, "must be a non-empty string");
  return v.get<std::string>();
}

std::vector<std::string> strings_opt(const json& options, const char* function, const char* key) {
  if (!options.contains(key)) return {};
  const json& v = options[key];
  if (v.is_string() && !v.get<std::string>().empty()) return {v.get<std::string>()};
  std::vector<std::string> out;
  if (v.is_array()) {
    for (const json& item : v) {
      if (!item.is_string() || item.get<std::string>().empty()) break;
      out.push_back(item.get<std::string>());
    }
    if (out.size() == v.size() && !out.empty()) return out;
  }
  bad(function, key, "must be a string or a list of strings");
}

std::chrono::milliseconds duration_opt(const json& options, const char* function, const char* key,
                                       std::chrono::milliseconds fallback) {
  if (!options.contains(key)) return fallback;
  const json& v = options[key];
  std::optional<Seconds> d;
  if (v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() >= 0 &&
      v.get<double>() <= kMaxDuration.count()) {
    d = Seconds(v.get<double>());
  } else if (v.is_string()) {
    d = parse_duration(v.get<std::string>());
  }
  if (!d) bad(function, key, "must be a duration (\"5m\", \"90s\" or seconds)");
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

bool bool_opt(const json& options, const char* function, const char* key, bool fallback) {
  if (!options.contains(key)) return fallback;
  if (!options[key].is_boolean()) bad(function, key, "must be true or false");
  return options[key].get<bool>();
}

int count_opt(const json& options, const char* function, const char* key, int fallback) {
  if (!options.contains(key)) return fallback;
  const json& v = options[key];
  if (v.is_boolean()) return v.get<bool>() ? INT_MAX : 0;
  if (v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= 1000000) {
    return static_cast<int>(v.get<int64_t>());
  }
  bad(function, key, "must be true, false or a count");
}

}  // namespace faultline::dr
