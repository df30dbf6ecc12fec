// The two watches a drain runs while it evicts (issue 14): the pods on the
// drained nodes (the filter chain's list, then one watch that says when each
// evicted pod is gone, instead of a GET per pod every 250 ms) and the
// PodDisruptionBudgets (fed to the EvictionQueue, which paces the evictions).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "runner/chaos/eviction_queue.h"
#include "runner/kube/client.h"

namespace faultline::chaos {

// Client::watch on its own thread until destroyed or `parent` stops.
// on_failure gets the error that ended the watch (one a relist cannot fix).
class BackgroundWatch {
 public:
  BackgroundWatch(kube::Client client, const kube::Resource& r, kube::ListOptions options,
                  std::function<void(const kube::WatchEvent&)> on_event,
                  std::function<void(const std::string&)> on_failure, std::stop_token parent);
  ~BackgroundWatch();
  BackgroundWatch(const BackgroundWatch&) = delete;
  BackgroundWatch& operator=(const BackgroundWatch&) = delete;

 private:
  std::stop_source stop_;
  std::stop_callback<std::function<void()>> link_;
  std::jthread thread_;
};

// A pod on a drained node, as the drain's filter chain, its PDB matching and
// its evictions read it: ~300 bytes, where the projected JSON was ~2.7 KB
// (3,333 pods of a 10k-pod zone drain: ~1 MB instead of ~9 MB).
struct DrainPod {
  std::string ns, name, uid, node, phase;
  std::string controller_kind;  // "ReplicaSet", "DaemonSet", "" when none
  bool terminating = false;     // metadata.deletionTimestamp set
  bool mirror = false;          // a static pod's mirror (kubernetes.io/config.mirror)
  bool emptydir = false;        // mounts an emptyDir volume
  std::shared_ptr<const nlohmann::json> labels;  // one object for the pods of one template
  std::string ref() const { return ns + "/" + name; }
};

// The pods on a set of nodes, by one list+watch of every pod (a pod's node
// cannot be selected on for several nodes at once). Pods elsewhere are kept
// as their identity only.
class DrainedPods {
 public:
  using Clock = std::chrono::steady_clock;
  DrainedPods(kube::Client client, std::set<std::string> nodes, std::stop_token parent);

  // The pods on the nodes in the first list. Throws the watch's error, or
  // runtime_error at `until`, or AbortedError on stop.
  std::vector<DrainPod> initial(Clock::time_point until, std::stop_token stop);
  // Waits until none of `uids` is on the nodes (deleted, or replaced under
  // its name); returns those still there at `until` or on stop. Throws the
  // watch's error if it failed.
  std::set<std::string> wait_gone(std::set<std::string> uids, Clock::time_point until,
                                  std::stop_token stop);

 private:
  void on_event(const kube::WatchEvent& e);

  std::set<std::string> nodes_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::vector<DrainPod> first_list_;
  std::map<std::string, std::shared_ptr<const nlohmann::json>> labels_;  // by dump, while listing
  bool synced_ = false;
  std::optional<std::string> error_;
  std::set<std::string> present_;  // uids on the nodes now
  BackgroundWatch watch_;          // last: it calls on_event from its thread
};

// Feeds every PodDisruptionBudget's status to `queue`; when the PDBs cannot
// be watched the queue goes blind (retry after a pause) with a warning.
class PdbFeed {
 public:
  PdbFeed(kube::Client client, EvictionQueue& queue, std::stop_token parent);

 private:
  EvictionQueue& queue_;
  BackgroundWatch watch_;
};

}  // namespace faultline::chaos
