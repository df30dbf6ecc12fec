// What every scheduler filter sees: the pod to place and one node with the
// pods already on it, plus the whole cluster for the rules that look across
// nodes (topology spread, inter-pod affinity) — the framework's NodeInfo and
// the scheduler snapshot's NodeInfos().List().
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runner/plan/model.h"

namespace faultline::plan {

struct NodeInfo {
  const Node* node = nullptr;
  std::vector<const Pod*> pods;  // assigned to this node, terminating ones included
  Resources requested;           // of the non-finished pods above
};

struct ClusterState {
  const Snapshot* snapshot = nullptr;
  std::vector<NodeInfo> nodes;
  // Indexes into `nodes` of the nodes holding a pod with required
  // anti-affinity (the scheduler's HavePodsWithRequiredAntiAffinityList):
  // only those need checking for existing pods' anti-affinity.
  std::vector<size_t> with_required_anti_affinity;
};

// nullopt: the node passes; otherwise the scheduler's own reason string.
using FilterResult = std::optional<std::string>;

// Each names the plugin under pkg/scheduler/framework/plugins/ it mirrors.
FilterResult node_unschedulable(const Pod& pod, const NodeInfo& node);  // nodeunschedulable
FilterResult node_resources_fit(const Pod& pod, const NodeInfo& node);  // noderesources/fit.go
FilterResult node_affinity(const Pod& pod, const NodeInfo& node);       // nodeaffinity
FilterResult taint_toleration(const Pod& pod, const NodeInfo& node);    // tainttoleration
FilterResult volume_zone(const Pod& pod, const NodeInfo& node,
                         const Snapshot& snapshot);  // volumezone + volumebinding
FilterResult pod_topology_spread(const Pod& pod, const NodeInfo& node,
                                 const ClusterState& cluster);  // podtopologyspread
FilterResult inter_pod_affinity(const Pod& pod, const NodeInfo& node,
                                const ClusterState& cluster);  // interpodaffinity

// PodTopologySpread's PreFilter state: matching pods per domain of each hard
// constraint, counted once per pod; Filter judges a node against it.
struct SpreadState {
  struct Constraint {
    std::string topology_key;
    int max_skew = 1, min_match = 0, self_match = 0;
    std::map<std::string, int> per_domain;
  };
  std::vector<Constraint> constraints;
};
SpreadState pod_topology_spread_prefilter(const Pod& pod, const ClusterState& cluster);
FilterResult pod_topology_spread(const SpreadState& state, const NodeInfo& node);

// Shared by the rules: the pod's nodeSelector and required node affinity
// (component-helpers nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)).
bool matches_required_node_affinity(const Pod& pod, const Node& node);
// A v1.NodeSelector ({nodeSelectorTerms: [...]}) against a node: terms ORed.
bool node_selector_matches(const json& node_selector, const Node& node);
// v1helper.FindMatchingUntoleratedTaint with effects NoSchedule/NoExecute
// (helper.DoNotScheduleTaintsFilterFunc): the first such taint not tolerated.
const Taint* untolerated_taint(const Node& node, const std::vector<Toleration>& tolerations);

}  // namespace faultline::plan
