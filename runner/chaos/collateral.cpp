#include "runner/chaos/collateral.h"

#include "runner/chaos/cluster_view.h"
#include "runner/chaos/journal.h"
#include "runner/kube/projection.h"

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
  pod = kube::kept(pod, {{"metadata", {"name", "namespace", "deletionTimestamp"}},
                         {"spec", {"nodeName", "tolerations"}}});
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
