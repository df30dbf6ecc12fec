// Limits a drill cannot cross, checked before anything is journaled or made.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace faultline::chaos {

struct Guards {
  int max_zones = 1;                    // zones faulted at the same time
  double max_node_fraction = 0.5;       // of all nodes unschedulable at once, whoever cordoned them
  std::vector<std::string> namespaces;  // pods may be evicted/killed only here (default: target's)
  bool allow_kube_system = false;
  bool allow_all_zones =
      false;  // a region failover drill fails every zone (guards.allow_all_zones)
  bool allow_collateral = false;  // fail_zone may evict pods outside `namespaces`

  // Throws GuardError naming the guard and the numbers.
  void check_zones(const std::set<std::string>& faulted_after, size_t zones_in_cluster) const;
  void check_nodes(size_t touched_after, size_t nodes_in_cluster) const;
  bool namespace_allowed(const std::string& ns) const;
  void check_namespace(const std::string& ns) const;
};

}  // namespace faultline::chaos
