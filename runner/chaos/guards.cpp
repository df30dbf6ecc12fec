#include "runner/chaos/guards.h"

#include <algorithm>
#include <cstdio>

#include "runner/common/error.h"

namespace faultline::chaos {

void Guards::check_zones(const std::set<std::string>& faulted_after,
                         size_t zones_in_cluster) const {
  if (!allow_all_zones && zones_in_cluster > 0 && faulted_after.size() >= zones_in_cluster)
    throw GuardError("guard: refusing to fault every zone of the cluster at once (" +
                     std::to_string(faulted_after.size()) + " of " +
                     std::to_string(zones_in_cluster) + ")");
  if (static_cast<int>(faulted_after.size()) > max_zones)
    throw GuardError("guard max_zones: " + std::to_string(faulted_after.size()) +
                     " zones would be faulted at once, the limit is " + std::to_string(max_zones));
}

void Guards::check_nodes(size_t touched_after, size_t nodes_in_cluster) const {
  if (nodes_in_cluster == 0) return;
  double fraction = static_cast<double>(touched_after) / static_cast<double>(nodes_in_cluster);
  if (fraction > max_node_fraction + 1e-9) {
    char buf[160];
    std::snprintf(
        buf, sizeof buf,
        "guard max_node_fraction: %zu of %zu nodes (%.0f%%) would be faulted, the limit is %.0f%%",
        touched_after, nodes_in_cluster, fraction * 100, max_node_fraction * 100);
    throw GuardError(buf);
  }
}

bool Guards::namespace_allowed(const std::string& ns) const {
  if (ns == "kube-system" && !allow_kube_system) return false;
  return std::find(namespaces.begin(), namespaces.end(), ns) != namespaces.end();
}

void Guards::check_namespace(const std::string& ns) const {
  if (ns == "kube-system" && !allow_kube_system)
    throw GuardError(
        "guard: namespace kube-system is untouchable unless guards.allow_kube_system is true");
  if (!namespace_allowed(ns)) {
    std::string list;
    for (const auto& n : namespaces) list += (list.empty() ? "" : ", ") + n;
    throw GuardError("guard namespaces: namespace \"" + ns + "\" is not in the allow-list [" +
                     list + "]");
  }
}

}  // namespace faultline::chaos
