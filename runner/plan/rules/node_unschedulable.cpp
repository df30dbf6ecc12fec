// NodeUnschedulable (pkg/scheduler/framework/plugins/nodeunschedulable/
// node_unschedulable.go): a cordoned node (spec.unschedulable) takes only pods
// that tolerate the taint node.kubernetes.io/unschedulable:NoSchedule.
#include "runner/plan/rules/filter.h"

namespace faultline::plan {

FilterResult node_unschedulable(const Pod& pod, const NodeInfo& info) {
  if (!info.node->unschedulable) return std::nullopt;
  const Taint cordon{"node.kubernetes.io/unschedulable", "", "NoSchedule"};
  for (const auto& t : pod.spec().tolerations)
    if (t.tolerates(cordon)) return std::nullopt;
  return "node(s) were unschedulable";
}

}  // namespace faultline::plan
