#include "runner/observe/spread_domains.h"

#include <cstdlib>
#include <string>

namespace faultline::observe {

using json = nlohmann::json;

namespace {

const json& at(const json& j, const json::json_pointer& p) {
  static const json null;
  return j.contains(p) ? j.at(p) : null;
}

bool in_values(const json& values, const std::string& v) {
  if (!values.is_array()) return false;
  for (const auto& x : values)
    if (x.is_string() && x.get<std::string>() == v) return true;
  return false;
}

// One NodeSelectorRequirement against a map of values (labels, or fields).
bool requirement_matches(const json& req, const json& values) {
  const std::string key = req.value("key", ""), op = req.value("operator", "");
  const bool present = values.is_object() && values.contains(key) && values[key].is_string();
  const std::string v = present ? values[key].get<std::string>() : "";
  const json& list = req.contains("values") ? req["values"] : json::array();
  if (op == "In") return present && in_values(list, v);
  if (op == "NotIn") return !present || !in_values(list, v);
  if (op == "Exists") return present;
  if (op == "DoesNotExist") return !present;
  if (op == "Gt" || op == "Lt") {
    if (!present || !list.is_array() || list.size() != 1 || !list[0].is_string()) return false;
    char* end = nullptr;
    long long have = std::strtoll(v.c_str(), &end, 10);
    if (*end) return false;
    long long bound = std::strtoll(list[0].get<std::string>().c_str(), &end, 10);
    if (*end) return false;
    return op == "Gt" ? have > bound : have < bound;
  }
  return false;  // an unknown operator matches nothing, as the scheduler
}

bool passes_node_affinity(const json& pod, const json& node) {
  const json& labels = at(node, "/metadata/labels"_json_pointer);
  const json& selector = at(pod, "/spec/nodeSelector"_json_pointer);
  if (selector.is_object())
    for (const auto& [k, v] : selector.items())
      if (!labels.is_object() || !labels.contains(k) || labels[k] != v) return false;
  const json& terms = at(
      pod,
      "/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms"_json_pointer);
  if (!terms.is_array() || terms.empty()) return true;
  const json fields = {{"metadata.name", at(node, "/metadata/name"_json_pointer)}};
  for (const auto& term : terms) {  // terms are ORed, requirements within a term ANDed
    bool all = true;
    for (const auto& r : term.value("matchExpressions", json::array()))
      all = all && requirement_matches(r, labels);
    for (const auto& r : term.value("matchFields", json::array()))
      all = all && requirement_matches(r, fields);
    if (all) return true;
  }
  return false;
}

bool tolerates(const json& tolerations, const json& taint) {
  if (!tolerations.is_array()) return false;
  for (const auto& t : tolerations) {
    const std::string effect = t.value("effect", "");
    if (!effect.empty() && effect != taint.value("effect", "")) continue;
    const std::string key = t.value("key", "");
    if (t.value("operator", "Equal") == "Exists") {
      if (key.empty() || key == taint.value("key", "")) return true;
      continue;
    }
    if (key == taint.value("key", "") && t.value("value", "") == taint.value("value", ""))
      return true;
  }
  return false;
}

bool passes_taints(const json& pod, const json& node) {
  const json& tolerations = at(pod, "/spec/tolerations"_json_pointer);
  for (const auto& taint : at(node, "/spec/taints"_json_pointer).is_array()
                               ? at(node, "/spec/taints"_json_pointer)
                               : json::array()) {
    const std::string effect = taint.value("effect", "");
    if (effect != "NoSchedule" && effect != "NoExecute")
      continue;  // PreferNoSchedule does not filter
    if (!tolerates(tolerations, taint)) return false;
  }
  return true;
}

}  // namespace

bool node_counts_for_spread(const json& pod, const json& node) {
  // The zone constraint's policies; without one, the scheduler's defaults.
  std::string affinity_policy = "Honor", taints_policy = "Ignore";
  const json& constraints = at(pod, "/spec/topologySpreadConstraints"_json_pointer);
  if (constraints.is_array())
    for (const auto& c : constraints)
      if (c.value("topologyKey", "") == "topology.kubernetes.io/zone") {
        affinity_policy = c.value("nodeAffinityPolicy", "Honor");
        taints_policy = c.value("nodeTaintsPolicy", "Ignore");
      }
  if (affinity_policy == "Honor" && !passes_node_affinity(pod, node)) return false;
  if (taints_policy == "Honor" && !passes_taints(pod, node)) return false;
  return true;
}

}  // namespace faultline::observe
