// NodeAffinity (pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go,
// Filter) with k8s.io/component-helpers/scheduling/corev1/nodeaffinity: the
// pod's nodeSelector (every label equal) AND its required node affinity
// (nodeSelectorTerms ORed, each term's expressions and fields ANDed; a term
// with neither matches nothing).
#include <string>

#include "runner/plan/rules/filter.h"

namespace faultline::plan {

namespace {

bool requirement_matches(const json& req, const json& labels) {
  std::string key = req.value("key", ""), op = req.value("operator", "");
  json values = req.value("values", json::array());
  bool has = labels.contains(key) && labels[key].is_string();
  std::string v = has ? labels[key].get<std::string>() : "";
  auto in_values = [&] {
    for (const auto& x : values)
      if (x == v) return true;
    return false;
  };
  if (op == "In") return has && in_values();
  if (op == "NotIn") return !has || !in_values();
  if (op == "Exists") return has;
  if (op == "DoesNotExist") return !has;
  if (op == "Gt" || op == "Lt") {
    if (!has || values.size() != 1) return false;
    try {
      long long mine = std::stoll(v), theirs = std::stoll(values[0].get<std::string>());
      return op == "Gt" ? mine > theirs : mine < theirs;
    } catch (const std::exception&) {
      return false;
    }
  }
  return false;
}

bool term_matches(const json& term, const Node& node) {
  json exprs = term.value("matchExpressions", json::array());
  json fields = term.value("matchFields", json::array());
  if (exprs.empty() && fields.empty()) return false;
  for (const auto& e : exprs)
    if (!requirement_matches(e, node.labels)) return false;
  json node_fields = {{"metadata.name", node.name}};  // the only field selectable
  for (const auto& f : fields)
    if (!requirement_matches(f, node_fields)) return false;
  return true;
}

}  // namespace

bool node_selector_matches(const json& node_selector, const Node& node) {
  for (const auto& term : node_selector.value("nodeSelectorTerms", json::array()))
    if (term_matches(term, node)) return true;
  return false;
}

bool matches_required_node_affinity(const Pod& pod, const Node& node) {
  for (const auto& [k, v] : pod.node_selector.items())
    if (!node.labels.contains(k) || node.labels[k] != v) return false;
  json na = pod.affinity.value("nodeAffinity", json::object());
  if (!na.contains("requiredDuringSchedulingIgnoredDuringExecution")) return true;
  return node_selector_matches(na["requiredDuringSchedulingIgnoredDuringExecution"], node);
}

FilterResult node_affinity(const Pod& pod, const NodeInfo& info) {
  if (matches_required_node_affinity(pod, *info.node)) return std::nullopt;
  return "node(s) didn't match Pod's node affinity/selector";
}

}  // namespace faultline::plan
