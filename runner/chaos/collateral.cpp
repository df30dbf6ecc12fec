#include "runner/chaos/collateral.h"

#include "runner/chaos/cluster_view.h"
#include "runner/chaos/journal.h"

namespace faultline::chaos {

// The taint's value is the run id, unknown to the pod: only an Exists
// toleration (for our key, or for every key) matches it, and a
// tolerationSeconds only delays the eviction.
bool tolerates_zone_failure(const nlohmann::json& pod) {
  for (const auto& t :
       pod.value("spec", nlohmann::json::object()).value("tolerations", nlohmann::json::array())) {
    std::string effect = t.value("effect", ""), key = t.value("key", ""),
                op = t.value("operator", "Equal");
    if (!effect.empty() && effect != "NoExecute") continue;
    if (op != "Exists" || !(key.empty() || key == kFailureTaintKey)) continue;
    if (t.contains("tolerationSeconds") && !t["tolerationSeconds"].is_null()) continue;
    return true;
  }
  return false;
}

void project_for_collateral(nlohmann::json& pod) {
  if (!pod.is_object()) return;
  nlohmann::json &m = pod["metadata"], &sp = pod["spec"];
  nlohmann::json out = {{"metadata", nlohmann::json::object()}, {"spec", nlohmann::json::object()}};
  for (const char* k : {"name", "namespace", "deletionTimestamp"})
    if (m.is_object() && m.contains(k)) out["metadata"][k] = std::move(m[k]);
  for (const char* k : {"nodeName", "tolerations"})
    if (sp.is_object() && sp.contains(k)) out["spec"][k] = std::move(sp[k]);
  pod = std::move(out);
}

std::vector<std::string> zone_failure_collateral(const nlohmann::json& pods,
                                                 const std::set<std::string>& nodes,
                                                 const Guards& guards) {
  std::vector<std::string> out;
  for (const auto& pod : pods) {
    if (!nodes.count(pod_node(pod)) || pod_terminating(pod)) continue;
    if (guards.namespace_allowed(pod["metadata"].value("namespace", ""))) continue;
    if (tolerates_zone_failure(pod)) continue;
    out.push_back(pod_ref(pod));
  }
  return out;
}

}  // namespace faultline::chaos
