#include "runner/chaos/selector.h"

#include <sstream>
#include <vector>

#include "runner/common/error.h"

namespace faultline::chaos {
namespace {

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// Splits on commas that are not inside parentheses.
std::vector<std::string> split_terms(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!trim(cur).empty() || !out.empty()) out.push_back(trim(cur));
  return out;
}

std::string label(const nlohmann::json& labels, const std::string& key, bool* present) {
  *present = labels.is_object() && labels.contains(key) && labels[key].is_string();
  return *present ? labels[key].get<std::string>() : "";
}

bool term_matches(const std::string& term, const nlohmann::json& labels) {
  if (term.empty()) throw InputError("label selector: empty term");
  bool present = false;
  for (const char* op : {" notin ", " in "}) {
    size_t at = term.find(op);
    if (at == std::string::npos) continue;
    std::string key = trim(term.substr(0, at));
    std::string rest = trim(term.substr(at + std::string(op).size()));
    if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')')
      throw InputError("label selector: expected (values) after \"" + trim(op) + "\" in \"" + term + "\"");
    std::string value = label(labels, key, &present);
    bool in = false;
    std::stringstream values(rest.substr(1, rest.size() - 2));
    for (std::string v; std::getline(values, v, ',');) in = in || (present && trim(v) == value);
    return std::string(op) == " in " ? in : !in;
  }
  if (auto at = term.find("!="); at != std::string::npos) {
    std::string value = label(labels, trim(term.substr(0, at)), &present);
    return !present || value != trim(term.substr(at + 2));
  }
  if (auto at = term.find("=="); at != std::string::npos) {
    std::string value = label(labels, trim(term.substr(0, at)), &present);
    return present && value == trim(term.substr(at + 2));
  }
  if (auto at = term.find('='); at != std::string::npos) {
    std::string value = label(labels, trim(term.substr(0, at)), &present);
    return present && value == trim(term.substr(at + 1));
  }
  if (term[0] == '!') {
    label(labels, trim(term.substr(1)), &present);
    return !present;
  }
  label(labels, term, &present);
  return present;
}

}  // namespace

bool selector_matches(const std::string& selector, const nlohmann::json& labels) {
  if (trim(selector).empty()) return true;
  for (const auto& term : split_terms(selector))
    if (!term_matches(term, labels)) return false;
  return true;
}

std::string selector_to_string(const nlohmann::json& s) {
  std::string out;
  auto add = [&](const std::string& t) { out += (out.empty() ? "" : ",") + t; };
  if (s.contains("matchLabels"))
    for (auto& [k, v] : s["matchLabels"].items()) add(k + "=" + v.get<std::string>());
  if (s.contains("matchExpressions")) {
    for (const auto& e : s["matchExpressions"]) {
      std::string key = e.value("key", ""), op = e.value("operator", "");
      std::string values;
      for (const auto& v : e.value("values", nlohmann::json::array()))
        values += (values.empty() ? "" : ",") + v.get<std::string>();
      if (op == "In") add(key + " in (" + values + ")");
      else if (op == "NotIn") add(key + " notin (" + values + ")");
      else if (op == "Exists") add(key);
      else if (op == "DoesNotExist") add("!" + key);
    }
  }
  return out;
}

}  // namespace faultline::chaos
