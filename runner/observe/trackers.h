// State kept from Kubernetes watch events: pure (events in, samples out) so
// the arithmetic is tested without an API server; observer.cpp feeds them
// from kube::Client::watch.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runner/kube/client.h"
#include "runner/observe/timeline.h"

namespace faultline::observe {

// The zone of a node or endpoint that has none.
inline constexpr const char* kUnknownZone = "unknown";

// Ready endpoints of one Service across its EndpointSlices
// (discovery.k8s.io/v1, label kubernetes.io/service-name).
class EndpointsTracker {
 public:
  EndpointsSample apply(const kube::WatchEvent& event, double t);
  EndpointsSample current(double t) const;

 private:
  struct Endpoint {
    std::string key;  // pod uid, else first address: dual-stack slices repeat a pod
    bool ready = false;
    std::string zone;
  };
  std::map<std::string, std::vector<Endpoint>> slices_;
  std::set<std::string> zones_;
};

// The target's pods, per zone, with the node -> zone map from a node watch.
// Thread-safe: pod and node events arrive on different watch threads.
class PodsTracker {
 public:
  struct Update {
    PodsSample sample;
    std::optional<ReadyEvent> became_ready;
    bool new_owner = false;  // a controller not seen before: resolve desired again
  };

  // sample=false: part of a list being ingested; Update::sample is left
  // empty (computing it per item is quadratic in the list).
  Update apply_pod(const kube::WatchEvent& event, double t, bool sample = true);
  // A sample when the change moved pods between zones (a node seen late).
  std::optional<PodsSample> apply_node(const kube::WatchEvent& event, double t);

  // Desired replicas from the owning workloads' spec.replicas.
  void set_desired(int desired);
  // When no owner could be resolved, desired is the number of Ready pods at
  // the fault start (the state the drill must return to); until then, the
  // current number of Ready pods.
  void freeze_desired_fallback();
  bool desired_known() const;
  void set_faulted_zones(const std::vector<std::string>& zones);

  // Controllers of the active pods: (kind, name).
  std::set<std::pair<std::string, std::string>> owners() const;
  PodsSample current(double t) const;

 private:
  struct Pod {
    std::string node;
    bool ready = false;
    bool active = true;  // false once terminating or Succeeded/Failed
    std::pair<std::string, std::string> owner;
  };
  PodsSample sample_locked(double t) const;
  // Adds (sign +1) or removes (-1) a pod's share of the counts below.
  void count_locked(const Pod& p, int sign);
  void recount_locked();
  std::string zone_of_locked(const std::string& node) const;

  mutable std::mutex mu_;
  std::map<std::string, Pod> pods_;
  std::map<std::string, std::string> node_zone_;
  std::map<std::string, nlohmann::json>
      nodes_;                 // name -> {metadata: {name, labels}, spec: {taints}}
  nlohmann::json placement_;  // the latest active pod's placement rules, null until one
  mutable std::optional<ZoneSet> eligible_;  // cache, reset when nodes_ or placement_ change
  std::set<std::string> zones_;
  // Kept as pods change, so a sample costs O(zones), not O(pods).
  std::map<std::string, int> ready_by_zone_, pods_by_zone_;
  int ready_ = 0, pending_ = 0;
  std::set<std::pair<std::string, std::string>> owners_seen_;
  std::optional<int> desired_;           // resolved from the workload
  std::optional<int> desired_fallback_;  // frozen at fault start
  std::set<std::string> faulted_;
};

// The compact views the trackers keep (kube::ListOptions::project): only the
// fields they read, in place. A kwok pod is ~4 KB of JSON, most of it
// managedFields and containers; what PodsTracker and the spread rules read is
// a tenth of it. Nodes: name, labels, taints (no images, no conditions).
void project_pod(nlohmann::json& pod);
void project_node(nlohmann::json& node);

// A PodDisruptionBudget watch event as a sample (nullopt for DELETED).
std::optional<PdbSample> pdb_sample(const kube::WatchEvent& event, double t);

// The zone label of a node object (topology.kubernetes.io/zone, then the
// deprecated failure-domain label); kUnknownZone when it has neither.
std::string node_zone(const nlohmann::json& node);

}  // namespace faultline::observe
