// NodeAffinity (pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go,
// Filter) with k8s.io/component-helpers/scheduling/corev1/nodeaffinity: the
// pod's nodeSelector (every label equal) AND its required node affinity
// (nodeSelectorTerms ORed, each term's expressions and fields ANDed; a term
// with neither matches nothing).
#include <string>

#include "runner/plan/rules/filter.h"

namespace faultline::plan {

namespace {

// j[key] without a copy (json::value copies): every node is matched against
// the pod's affinity for each pod placed, millions of times at 10k pods
// (copies were ~70% of the plan's CPU there, issue 14).
const json& member(const json& j, const char* key) {
  static const json none;
  if (!j.is_object()) return none;
  auto it = j.find(key);
  return it == j.end() ? none : *it;
}

const std::string* string_member(const json& j, const std::string& key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
}

// A NodeSelectorRequirement against labels, or against {metadata.name} for
// matchFields (`name` set).
bool requirement_matches(const json& req, const json& labels, const std::string* name = nullptr) {
  const json& key_j = member(req, "key");
  const json& op_j = member(req, "operator");
  if (!key_j.is_string() || !op_j.is_string()) return false;
  const std::string& key = key_j.get_ref<const std::string&>();
  const std::string& op = op_j.get_ref<const std::string&>();
  const std::string* value =
      name ? (key == "metadata.name" ? name : nullptr) : string_member(labels, key);
  bool has = value != nullptr;
  const json& values = member(req, "values");
  auto in_values = [&] {
    if (!values.is_array()) return false;
    for (const auto& x : values)
      if (x.is_string() && x.get_ref<const std::string&>() == *value) return true;
    return false;
  };
  if (op == "In") return has && in_values();
  if (op == "NotIn") return !has || !in_values();
  if (op == "Exists") return has;
  if (op == "DoesNotExist") return !has;
  if (op == "Gt" || op == "Lt") {
    if (!has || !values.is_array() || values.size() != 1 || !values[0].is_string()) return false;
    try {
      long long mine = std::stoll(*value), theirs = std::stoll(values[0].get<std::string>());
      return op == "Gt" ? mine > theirs : mine < theirs;
    } catch (const std::exception&) {
      return false;
    }
  }
  return false;
}

bool term_matches(const json& term, const Node& node) {
  const json& exprs = member(term, "matchExpressions");
  const json& fields = member(term, "matchFields");  // metadata.name, the only field selectable
  bool no_exprs = !exprs.is_array() || exprs.empty(),
       no_fields = !fields.is_array() || fields.empty();
  if (no_exprs && no_fields) return false;
  if (!no_exprs)
    for (const auto& e : exprs)
      if (!requirement_matches(e, node.labels)) return false;
  if (!no_fields)
    for (const auto& f : fields)
      if (!requirement_matches(f, json(), &node.name)) return false;
  return true;
}

}  // namespace

bool node_selector_matches(const json& node_selector, const Node& node) {
  const json& terms = member(node_selector, "nodeSelectorTerms");
  if (!terms.is_array()) return false;
  for (const auto& term : terms)
    if (term_matches(term, node)) return true;
  return false;
}

bool matches_required_node_affinity(const Pod& pod, const Node& node) {
  for (const auto& [k, v] : pod.spec().node_selector.items()) {
    auto it = node.labels.find(k);
    if (it == node.labels.end() || *it != v) return false;
  }
  const json& required = member(member(pod.spec().affinity, "nodeAffinity"),
                                "requiredDuringSchedulingIgnoredDuringExecution");
  if (required.is_null()) return true;
  return node_selector_matches(required, node);
}

FilterResult node_affinity(const Pod& pod, const NodeInfo& info) {
  if (matches_required_node_affinity(pod, *info.node)) return std::nullopt;
  return "node(s) didn't match Pod's node affinity/selector";
}

}  // namespace faultline::plan
