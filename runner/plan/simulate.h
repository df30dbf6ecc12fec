// The experiment's faults applied to a snapshot, and every displaced pod
// placed again with the scheduler's filters (rules/). Pure: no I/O.
//
// Placement among feasible nodes: the real scheduler scores feasible nodes
// (spreading, least allocated, ...) and picks the best. We do not reproduce
// the scores; we pick, in order, the node whose zone holds the fewest pods of
// the same workload, then the node holding the fewest, then the most free
// CPU, then the name. Which pods stay Pending and why depends only on
// feasibility whenever the feasible choices are interchangeable (the case for
// the scenarios we test); the spread after re-placement is "best effort"
// unless a hard topology spread constraint bounds it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runner/plan/model.h"
#include "runner/plan/rules/filter.h"

namespace faultline::plan {

enum class FaultKind { Cordon, Drain, FailZone, KillPods, ViolatePdb };
const char* to_string(FaultKind kind);

struct Fault {
  Fault() = default;
  Fault(FaultKind k, std::string z, int c = 1, std::string p = "", int b = 1)
      : kind(k), zone(std::move(z)), count(c), pdb(std::move(p)), by(b) {}
  FaultKind kind = FaultKind::Cordon;
  std::string zone;  // cordon, drain, fail_zone; kill_pods when zonal
  int count = 1;     // kill_pods
  std::string pdb;   // violate_pdb
  int by = 1;        // violate_pdb
};

struct Scenario {
  std::vector<Fault> faults;  // in the script's order
  std::string target_ns, target_selector;
  std::vector<std::string> allowed_namespaces;  // guards.namespaces
  bool allow_kube_system = false;
};

struct Placement {
  std::string pod;       // the displaced pod ("ns/name")
  std::string workload;  // "Deployment shop/checkout"
  bool target = false;
  bool replaced = true;        // false: no controller re-creates it (lost)
  std::string node, zone;      // where its replacement goes; "" when Pending
  std::string pending_reason;  // the scheduler's FitError text when Pending
};

struct Skipped {
  std::string pod, reason;  // a drain's skip (kubectl's filter chain)
};

struct Outcome {
  std::vector<std::string> faulted_zones;
  std::vector<std::string> faulted_nodes;
  std::vector<Placement> displaced;  // every pod the faults remove, in queue order
  std::vector<Skipped> skipped;
  // Target pods after re-placement, per zone (zones with none included).
  std::map<std::string, int> target_per_zone_after;
  // Ready target pods that the faults take away, per zone.
  std::map<std::string, int> target_displaced_per_zone;
  int target_pending = 0;
};

// The scheduler's filters in its default order (NodeUnschedulable,
// TaintToleration, NodeAffinity, NodeResourcesFit, VolumeBinding/VolumeZone,
// PodTopologySpread, InterPodAffinity); the first failure per node.
FilterResult run_filters(const Pod& pod, const NodeInfo& node, const ClusterState& cluster,
                         const SpreadState& spread);
// "0/9 nodes are available: 3 Insufficient cpu, 6 node(s) had ..." (the
// scheduler's FitError: counts per reason, reasons sorted), or "" if feasible.
std::string fit_error(const Pod& pod, const ClusterState& cluster, std::vector<size_t>* feasible);

// The cluster as the scheduler sees it: node infos with their pods.
ClusterState cluster_state(const Snapshot& snapshot);
// The same with only `pods` (pointers into the caller's storage) placed.
ClusterState cluster_state(const Snapshot& snapshot, const std::vector<const Pod*>& pods);

bool selects_target(const Scenario& scenario, const Pod& pod);
Outcome simulate(const Snapshot& snapshot, const Scenario& scenario);

}  // namespace faultline::plan
