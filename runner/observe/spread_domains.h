// Which zones count for a workload's spread (max_skew), as kube-scheduler's
// topology spread counts domains (pkg/scheduler/framework/plugins/
// podtopologyspread): a node is in a domain of the constraint only if it
// passes the pod's nodeSelector and required node affinity
// (nodeAffinityPolicy Honor, the default) and, with nodeTaintsPolicy Honor,
// its taints are tolerated (the default, Ignore, does not look at taints).
// A zone none of whose nodes counts can never hold a replica: judging skew
// against its 0 would fail an SLO the workload cannot meet.
#pragma once

#include <nlohmann/json.hpp>

namespace faultline::observe {

// pod: a Pod (spec.nodeSelector, spec.affinity, spec.tolerations,
// spec.topologySpreadConstraints); node: a Node (metadata.labels,
// metadata.name, spec.taints).
bool node_counts_for_spread(const nlohmann::json& pod, const nlohmann::json& node);

}  // namespace faultline::observe
