#include "runner/experiment/options.h"

#include <cmath>

#include "runner/common/duration.h"
#include "runner/script/host_api.h"

namespace faultline::experiment {

Options::Options(const nlohmann::json& value, std::string function,
                 std::initializer_list<const char*> allowed)
    : value_(value.is_null() ? nlohmann::json::object() : value), function_(std::move(function)) {
  if (!value_.is_object()) throw script::HostError(function_ + ": expected a table of options");
  for (const auto& [key, _] : value_.items()) {
    bool ok = false;
    std::string list;
    for (const char* a : allowed) {
      ok = ok || key == a;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    if (!ok)
      throw script::HostError(function_ + ": unknown option \"" + key +
                              "\" (expected one of: " + list + ")");
  }
}

void Options::fail(const std::string& key, const std::string& expected) const {
  throw script::HostError(
      function_ + ": option \"" + key + "\" must be " + expected + ", got " +
      value_[key].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string Options::str(const std::string& key, const std::string& fallback) const {
  if (!has(key)) return fallback;
  if (!value_[key].is_string()) fail(key, "a string");
  return value_[key].get<std::string>();
}

std::optional<double> Options::seconds(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  const auto& v = value_[key];
  if (v.is_number() && v.get<double>() >= 0 && v.get<double>() <= kMaxDuration.count())
    return v.get<double>();
  if (v.is_string())
    if (auto d = parse_duration(v.get<std::string>())) return d->count();
  fail(key, "a duration (\"90s\", \"2m\") or a number of seconds");
}

std::optional<bool> Options::boolean(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  const auto& v = value_[key];
  if (v.is_boolean()) return v.get<bool>();
  fail(key, "true or false");
}

std::optional<long long> Options::integer(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  const auto& v = value_[key];
  if (v.is_number_integer()) return v.get<long long>();
  // A double converts to long long only inside its range (else undefined).
  if (v.is_number() && std::floor(v.get<double>()) == v.get<double>() &&
      std::abs(v.get<double>()) < 9.2e18)
    return static_cast<long long>(v.get<double>());
  fail(key, "a whole number");
}

std::optional<int> Options::integer_in(const std::string& key, int min, int max) const {
  if (!has(key)) return std::nullopt;
  const auto& v = value_[key];
  bool whole =
      v.is_number_integer() || (v.is_number() && std::floor(v.get<double>()) == v.get<double>() &&
                                std::abs(v.get<double>()) < 9.2e18);
  long long n =
      whole ? (v.is_number_integer() ? v.get<long long>() : static_cast<long long>(v.get<double>()))
            : 0;
  if (!whole || n < min || n > max)
    fail(key, "a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  return static_cast<int>(n);
}

std::optional<double> Options::number(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  if (!value_[key].is_number()) fail(key, "a number");
  return value_[key].get<double>();
}

}  // namespace faultline::experiment
