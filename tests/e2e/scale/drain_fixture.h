// A production-sized zone on the local control plane (issue 14): kwok nodes
// in three zones of their own (scale-a with room for exactly `in_zone` pods,
// scale-b and scale-c with room for the rest and for the drained zone's
// replacements), one Deployment filling them, a PDB over it, and a watcher
// of the API server's own view, independent of faultline's trackers: the
// pods' Ready transitions, the PDB's status, and, for every pod deleted,
// whether the API server's eviction marked it (DisruptionTarget /
// EvictionByEvictionAPI) before it went.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "runner/kube/client.h"

namespace faultline::testing {

inline constexpr const char* kScaleNamespace = "scale";
inline constexpr const char* kScaleZone = "scale-a";  // the zone drained

struct ScaleCluster {
  int pods = 1500;
  int in_zone = 500;
  int max_unavailable_percent = 10;
  // Each pod's time from scheduled to Ready (kwok's pod-ready stage): "" is
  // at once; "5s" makes the PDB, not the API server, what paces a drain.
  std::string ready_delay;
};

// Creates the nodes, the Deployment and the PDB, and waits until every pod
// is Ready with `in_zone` of them in scale-a. Throws on timeout.
void scale_up(kube::Client& client, const ScaleCluster& size);
// Everything scale_up made, gone (the pods first, then the nodes).
void scale_down(kube::Client& client);
// Pods of the Deployment Ready and not terminating, per zone.
std::map<std::string, int> scale_ready_per_zone(kube::Client& client);
// Waits until `pods` are Ready (not terminating); returns how long it took.
double wait_scale_ready(kube::Client& client, int pods, std::chrono::seconds timeout);

// The API server's view, watched on its own thread while it lives.
class BudgetWatcher {
 public:
  explicit BudgetWatcher(kube::Client client);
  ~BudgetWatcher();
  // Blocks until both watches have their first list in.
  void wait_synced();

  int min_healthy() const { return min_healthy_; }          // Ready and not terminating, ever
  int min_pdb_healthy() const { return min_pdb_healthy_; }  // status.currentHealthy
  int desired_healthy() const { return desired_healthy_; }
  int min_disruptions_allowed() const { return min_allowed_; }
  // Pods on scale-a deleted since the watch began, by how they went.
  int deleted_after_eviction() const { return evicted_; }
  int deleted_without_eviction() const { return deleted_plain_; }
  // Pods that became Ready after being created during the watch, and the
  // median time it took (creation to Ready), in seconds.
  double median_time_to_ready() const;

 private:
  void on_pod(const kube::WatchEvent& e);
  void on_pdb(const kube::WatchEvent& e);

  kube::Client client_;
  std::map<std::string, std::string> zone_of_node_;
  mutable std::mutex mu_;
  struct Pod {
    bool healthy = false, marked = false, in_zone = false;
  };
  std::map<std::string, Pod> pods_;
  std::map<std::string, std::chrono::steady_clock::time_point> seen_;  // created, not yet Ready
  std::vector<double> to_ready_;
  int healthy_ = 0;
  std::atomic<int> min_healthy_{1 << 30}, min_pdb_healthy_{1 << 30}, desired_healthy_{0},
      min_allowed_{1 << 30}, evicted_{0}, deleted_plain_{0};
  std::atomic<bool> pods_synced_{false}, pdb_synced_{false};
  std::stop_source stop_;
  std::jthread pods_thread_, pdb_thread_;
};

}  // namespace faultline::testing
