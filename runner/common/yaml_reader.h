// Strict reading of YAML specs: every error names file:line:col and what was
// expected; unknown fields are errors (a typo must not silently disable a
// guard or an SLO).
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>

#include "runner/common/duration.h"
#include "runner/common/error.h"

namespace faultline {

class YamlReader {
 public:
  YamlReader(std::string file, YAML::Node node) : file_(std::move(file)), node_(std::move(node)) {}

  // Parse a whole file (or text naming file). Throws InputError. Bounded:
  // at most kMaxBytes of text and kMaxDepth levels of nesting (an alias cycle
  // is infinitely deep); duplicate keys and tab indentation are errors.
  static constexpr size_t kMaxBytes = 1 << 20;
  static constexpr int kMaxDepth = 32;
  static constexpr size_t kMaxNodes = 100000;  // after aliases are expanded
  static YamlReader load_file(const std::string& path);
  static YamlReader load_text(const std::string& file, const std::string& text);

  const YAML::Node& node() const { return node_; }
  const std::string& file() const { return file_; }
  bool defined() const { return node_.IsDefined() && !node_.IsNull(); }
  bool is_map() const { return node_.IsMap(); }
  bool is_sequence() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }

  // The child at key, or an undefined reader when absent.
  YamlReader operator[](const std::string& key) const;
  YamlReader at(size_t index) const;
  size_t size() const { return node_.size(); }
  bool has(const std::string& key) const;
  // Calls fn for each (key, value) of a map, in document order.
  void for_each(const std::function<void(const std::string&, const YamlReader&)>& fn) const;

  // Throws unless this is a map whose keys are all in allowed.
  void expect_map(std::initializer_list<const char*> allowed, const std::string& what) const;
  void expect_sequence(const std::string& what) const;

  std::string as_string(const std::string& what) const;
  double as_number(const std::string& what) const;
  long long as_int(const std::string& what) const;
  bool as_bool(const std::string& what) const;
  Seconds as_duration(const std::string& what) const;  // "90s" or seconds
  double as_ratio(const std::string& what) const;      // "99.5%" or 0.995
  double as_rate(const std::string& what) const;       // "20/s"
  // A label selector, its syntax checked as the API server would.
  std::string as_selector(const std::string& what) const;

  std::optional<std::string> opt_string(const std::string& key) const;
  std::optional<Seconds> opt_duration(const std::string& key) const;

  // An InputError located at this node: "file:line:col: message".
  [[noreturn]] void fail(const std::string& message) const;
  int line() const { return node_.Mark().line + 1; }
  int column() const { return node_.Mark().column + 1; }

 private:
  std::string file_;
  YAML::Node node_;
  YAML::Mark parent_mark_{};
  std::string key_;  // for messages about absent keys
};

}  // namespace faultline
