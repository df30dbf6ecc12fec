// Option tables from scripts, checked like the spec: an unknown key or a
// wrong type is a script error naming the function and the key.
#pragma once

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <optional>
#include <string>

namespace faultline::experiment {

class Options {
 public:
  Options(const nlohmann::json& value, std::string function,
          std::initializer_list<const char*> allowed);

  bool has(const std::string& key) const { return value_.contains(key) && !value_[key].is_null(); }
  std::string str(const std::string& key, const std::string& fallback = "") const;
  std::optional<double> seconds(const std::string& key) const;  // "90s" or 90
  std::optional<long long> integer(const std::string& key) const;
  // A whole number in [min, max]; anything else (a fraction, 1e30, INT_MAX
  // where a pod count is meant) names the range.
  std::optional<int> integer_in(const std::string& key, int min, int max) const;
  std::optional<double> number(const std::string& key) const;
  std::optional<bool> boolean(const std::string& key) const;

 private:
  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;
  nlohmann::json value_;
  std::string function_;
};

}  // namespace faultline::experiment
