#include "runner/common/yaml_reader.h"

#include <fstream>
#include <sstream>

namespace faultline {

YamlReader YamlReader::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot read file");
  std::stringstream text;
  text << in.rdbuf();
  return load_text(path, text.str());
}

YamlReader YamlReader::load_text(const std::string& file, const std::string& text) {
  try {
    return YamlReader(file, YAML::Load(text));
  } catch (const YAML::Exception& e) {
    throw InputError(file, e.mark.line + 1, e.mark.column + 1, "invalid YAML: " + e.msg);
  }
}

YamlReader YamlReader::operator[](const std::string& key) const {
  YamlReader child(file_, node_.IsMap() ? node_[key] : YAML::Node(YAML::NodeType::Undefined));
  child.parent_mark_ = node_.Mark();
  child.key_ = key;
  return child;
}

YamlReader YamlReader::at(size_t index) const {
  YamlReader child(file_, node_[index]);
  child.parent_mark_ = node_.Mark();
  return child;
}

bool YamlReader::has(const std::string& key) const { return node_.IsMap() && node_[key].IsDefined(); }

void YamlReader::for_each(const std::function<void(const std::string&, const YamlReader&)>& fn) const {
  for (const auto& kv : node_) {
    YamlReader value(file_, kv.second);
    value.parent_mark_ = kv.first.Mark();
    value.key_ = kv.first.as<std::string>();
    fn(value.key_, value);
  }
}

void YamlReader::fail(const std::string& message) const {
  YAML::Mark mark = node_.IsDefined() && !node_.Mark().is_null() ? node_.Mark() : parent_mark_;
  if (mark.is_null()) throw InputError(file_ + ": " + message);
  throw InputError(file_, mark.line + 1, mark.column + 1, message);
}

void YamlReader::expect_map(std::initializer_list<const char*> allowed, const std::string& what) const {
  if (!node_.IsMap()) fail(what + ": expected a mapping");
  for (const auto& kv : node_) {
    auto key = kv.first.as<std::string>();
    bool ok = false;
    std::string list;
    for (const char* a : allowed) {
      ok = ok || key == a;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    if (!ok) {
      YamlReader k(file_, kv.first);
      k.fail("unknown field \"" + key + "\" in " + what + " (expected one of: " + list + ")");
    }
  }
}

void YamlReader::expect_sequence(const std::string& what) const {
  if (!node_.IsSequence()) fail(what + ": expected a list");
}

std::string YamlReader::as_string(const std::string& what) const {
  if (!node_.IsDefined() || node_.IsNull()) fail(what + ": required field \"" + key_ + "\" is missing");
  if (!node_.IsScalar()) fail(what + ": expected a string");
  return node_.Scalar();
}

double YamlReader::as_number(const std::string& what) const {
  auto text = as_string(what);
  try {
    size_t used = 0;
    double v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  fail(what + ": expected a number, got \"" + text + "\"");
}

long long YamlReader::as_int(const std::string& what) const {
  auto text = as_string(what);
  try {
    size_t used = 0;
    long long v = std::stoll(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  fail(what + ": expected a whole number, got \"" + text + "\"");
}

bool YamlReader::as_bool(const std::string& what) const {
  auto text = as_string(what);
  if (text == "true") return true;
  if (text == "false") return false;
  fail(what + ": expected true or false, got \"" + text + "\"");
}

Seconds YamlReader::as_duration(const std::string& what) const {
  auto text = as_string(what);
  if (auto d = parse_duration(text)) return *d;
  fail(what + ": invalid duration \"" + text + "\" (expected e.g. 90s, 2m, 250ms)");
}

double YamlReader::as_ratio(const std::string& what) const {
  auto text = as_string(what);
  if (auto r = parse_ratio(text)) return *r;
  fail(what + ": invalid ratio \"" + text + "\" (expected e.g. 99.5% or 0.995)");
}

double YamlReader::as_rate(const std::string& what) const {
  auto text = as_string(what);
  if (auto r = parse_rate(text)) return *r;
  fail(what + ": invalid rate \"" + text + "\" (expected e.g. 20/s)");
}

std::optional<std::string> YamlReader::opt_string(const std::string& key) const {
  auto child = (*this)[key];
  if (!child.defined()) return std::nullopt;
  return child.as_string(key);
}

std::optional<Seconds> YamlReader::opt_duration(const std::string& key) const {
  auto child = (*this)[key];
  if (!child.defined()) return std::nullopt;
  return child.as_duration(key);
}

}  // namespace faultline
