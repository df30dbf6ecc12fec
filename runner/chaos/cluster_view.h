// Read-only facts about the cluster that faults and waits need: which node is
// in which zone, whether a pod is Ready, who owns it.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "runner/kube/client.h"

namespace faultline::chaos {

using json = nlohmann::json;

inline constexpr const char* kZoneLabel = "topology.kubernetes.io/zone";

class ClusterView {
 public:
  explicit ClusterView(kube::Client client) : client_(std::move(client)) {}

  // A fresh list, items only, each reduced by project_node_facts.
  json nodes();
  std::vector<std::string> zones();  // sorted, from node labels
  // The same, from a list nodes() returned: one list serves a whole fault
  // (at 1,000 nodes each list is 3 pages).
  static std::vector<std::string> zones_in(const json& nodes);
  static std::vector<std::string> names_in_zone(const json& nodes, const std::string& zone);
  std::vector<json> nodes_in_zone(const std::string& zone);
  std::string zone_of_node(const std::string& node);  // cached; refreshed on a miss
  size_t node_count();

  kube::Client& client() { return client_; }

 private:
  void refresh_zones_locked(const json& items);
  kube::Client client_;
  std::mutex mutex_;
  std::map<std::string, std::string> node_zone_;
};

// What faults, guards and cluster.nodes() read of a node, in place:
// metadata (name, uid, resourceVersion, labels, annotations), the spec
// whole, status.conditions (type, status). For ListOptions::project.
void project_node_facts(json& node);

// The items of a list, by value: `for (auto& x : items(client.list(...)))` is
// safe, while `for (auto& x : client.list(...)["items"])` iterates a destroyed
// temporary.
inline json items(json list) { return std::move(list["items"]); }

// What the pod helpers below read of a pod, in place: metadata (name,
// namespace, uid, deletionTimestamp, ownerReferences), spec.nodeName,
// status.phase and the Ready condition. For ListOptions::project: a pod
// selection (kill_pods, violate_pdb, cluster.pods) holds ~300 bytes a pod,
// not the whole document (~25 KB of DOM a pod, issue 14).
void project_pod_state(json& pod);

bool pod_ready(const json& pod);
bool pod_terminating(const json& pod);
std::string pod_node(const json& pod);
std::string pod_ref(const json& pod);          // "ns/name"
std::string controller_kind(const json& pod);  // "ReplicaSet", "DaemonSet", "" when none

}  // namespace faultline::chaos
