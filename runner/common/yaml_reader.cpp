#include "runner/common/yaml_reader.h"

#include "runner/common/label_selector.h"

#include <fstream>
#include <map>
#include <sstream>

namespace faultline {

YamlReader YamlReader::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot read file");
  // Read one byte past the limit, not the whole of a huge file.
  std::string text(kMaxBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxBytes)
    throw InputError(path + ": larger than " + std::to_string(kMaxBytes) +
                     " bytes, the most a spec may have");
  return load_text(path, text);
}

namespace {

// YAML forbids tabs in indentation; yaml-cpp's own message for one does not
// say so.
void refuse_tab_indentation(const std::string& file, const std::string& text) {
  int line = 1;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    for (size_t i = start; i < end && (text[i] == ' ' || text[i] == '\t'); ++i)
      if (text[i] == '\t')
        throw InputError(file, line, static_cast<int>(i - start) + 1,
                         "tab character in indentation (YAML indents with spaces only)");
    start = end + 1;
    ++line;
  }
}

// Depth (an alias cycle is infinitely deep), size after aliases are expanded
// (a "billion laughs" file is small), and duplicate keys (yaml-cpp keeps the
// first silently; a second `guards:` must not be ignored).
class StructureCheck {
 public:
  explicit StructureCheck(const std::string& file) : file_(file) {}

  void check(const YAML::Node& node, int depth) {
    if (depth > YamlReader::kMaxDepth)
      fail(node, "nesting deeper than " + std::to_string(YamlReader::kMaxDepth) +
                     " levels (or an alias that contains itself)");
    if (++nodes_ > YamlReader::kMaxNodes)
      fail(node,
           "more than " + std::to_string(YamlReader::kMaxNodes) + " values (aliases expanded)");
    if (node.IsSequence()) {
      for (const auto& child : node) check(child, depth + 1);
    } else if (node.IsMap()) {
      std::map<std::string, YAML::Mark> seen;
      for (const auto& kv : node) {
        if (kv.first.IsScalar()) {
          auto [it, fresh] = seen.emplace(kv.first.Scalar(), kv.first.Mark());
          if (!fresh)
            fail(kv.first, "duplicate key \"" + kv.first.Scalar() + "\" (first at line " +
                               std::to_string(it->second.line + 1) + ")");
        } else {
          fail(kv.first,
               "expected a plain key, got a " + std::string(kv.first.IsMap() ? "mapping" : "list"));
        }
        check(kv.second, depth + 1);
      }
    }
  }

 private:
  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    YAML::Mark m = node.Mark();
    if (m.is_null()) throw InputError(file_ + ": " + message);
    throw InputError(file_, m.line + 1, m.column + 1, message);
  }

  const std::string& file_;
  size_t nodes_ = 0;
};

}  // namespace

YamlReader YamlReader::load_text(const std::string& file, const std::string& text) {
  if (text.size() > kMaxBytes)
    throw InputError(file + ": " + std::to_string(text.size()) +
                     " bytes; a spec may have at most " + std::to_string(kMaxBytes) + " bytes");
  refuse_tab_indentation(file, text);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InputError(file, e.mark.line + 1, e.mark.column + 1, "invalid YAML: " + e.msg);
  }
  StructureCheck(file).check(root, 0);
  return YamlReader(file, root);
}

namespace {

// A const lookup that misses returns an invalid ("zombie") node whose
// IsMap()/Mark() throw YAML::InvalidNode (found by tests/fuzz: a spec
// without `target:` exited 4); absent is a plain Undefined node instead.
YAML::Node present_or_undefined(YAML::Node n) {
  return n.IsDefined() ? n : YAML::Node(YAML::NodeType::Undefined);
}

}  // namespace

YamlReader YamlReader::operator[](const std::string& key) const {
  YamlReader child(file_, node_.IsMap() ? present_or_undefined(node_[key])
                                        : YAML::Node(YAML::NodeType::Undefined));
  child.parent_mark_ = node_.Mark();
  child.key_ = key;
  return child;
}

YamlReader YamlReader::at(size_t index) const {
  YamlReader child(file_, node_.IsSequence() && index < node_.size()
                              ? present_or_undefined(node_[index])
                              : YAML::Node(YAML::NodeType::Undefined));
  child.parent_mark_ = node_.Mark();
  return child;
}

bool YamlReader::has(const std::string& key) const {
  return node_.IsMap() && node_[key].IsDefined();
}

void YamlReader::for_each(
    const std::function<void(const std::string&, const YamlReader&)>& fn) const {
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

void YamlReader::expect_map(std::initializer_list<const char*> allowed,
                            const std::string& what) const {
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
  if (!node_.IsDefined() || node_.IsNull())
    fail(what + ": required field \"" + key_ + "\" is missing");
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
  if (duration_too_long(text))
    fail(what + ": duration \"" + text + "\" is too long (at most " +
         format_duration(kMaxDuration) + ")");
  fail(what + ": invalid duration \"" + text + "\" (expected e.g. 90s, 2m, 250ms)");
}

std::string YamlReader::as_selector(const std::string& what) const {
  auto text = as_string(what);
  if (auto err = label_selector_error(text)) fail(what + ": " + *err);
  return text;
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
