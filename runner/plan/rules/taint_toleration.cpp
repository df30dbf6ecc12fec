// TaintToleration (pkg/scheduler/framework/plugins/tainttoleration/
// taint_toleration.go, Filter): a node whose NoSchedule or NoExecute taint the
// pod does not tolerate is filtered out. This is what keeps displaced pods off
// a failed zone: faultline's faultline.io/zone-failure NoExecute taint, and the
// node lifecycle controller's unreachable/not-ready taints on a real outage.
#include "runner/plan/rules/filter.h"

namespace faultline::plan {

const Taint* untolerated_taint(const Node& node, const std::vector<Toleration>& tolerations) {
  for (const auto& taint : node.taints) {
    if (taint.effect != "NoSchedule" && taint.effect != "NoExecute") continue;
    bool tolerated = false;
    for (const auto& t : tolerations) tolerated = tolerated || t.tolerates(taint);
    if (!tolerated) return &taint;
  }
  return nullptr;
}

FilterResult taint_toleration(const Pod& pod, const NodeInfo& info) {
  // v1.36 wording (checked against its scheduler on the local cluster);
  // releases before it wrote "node(s) had untolerated taint {key: value}".
  if (untolerated_taint(*info.node, pod.spec().tolerations))
    return "node(s) had untolerated taint(s)";
  return std::nullopt;
}

}  // namespace faultline::plan
