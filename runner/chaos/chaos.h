// The faults a script can inject. Each one: checks the guards, journals its
// intent in the cluster, mutates (fanned out with bounded concurrency), then
// records what happened. rollback() undoes everything this run did.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "runner/chaos/cluster_view.h"
#include "runner/chaos/guards.h"
#include "runner/chaos/journal.h"
#include "runner/chaos/rollback.h"
#include "runner/kube/client.h"

namespace faultline::chaos {

using json = nlohmann::json;

struct ChaosOptions {
  std::string run_id;
  Guards guards;
  std::function<double()> clock = [] { return 0.0; };  // seconds since run start
  std::stop_token stop;                                // abort: long operations return early
  size_t concurrency = 32;
  // Each eviction the API server admitted (201), as it happens, from the
  // drain's worker threads (so must be thread-safe): the timeline keeps them
  // for the pdb SLO's evidence without chaos depending on observe. May be empty.
  std::function<void(const std::string& ns, const std::string& name, const std::string& node,
                     double t)>
      on_evicted;
};

struct DrainOptions {
  std::chrono::duration<double> timeout{120};
  std::optional<int64_t> grace_seconds;  // default: each pod's own
  bool delete_emptydir_data = false;     // kubectl drain --delete-emptydir-data
};

struct KillOptions {
  std::string ns;
  std::string selector;
  std::string zone;
  std::string node;
  std::optional<int> count;
  std::optional<double> percent;  // 0..100
  std::optional<int64_t> grace_seconds;
  bool allow_all = false;  // a count over the matching pods, or every replica
};

class Chaos {
 public:
  Chaos(kube::Client client, Journal& journal, ChaosOptions options);

  ClusterView& view() { return view_; }

  json cordon_zone(const std::string& zone);
  json uncordon_zone(const std::string& zone);
  json cordon_node(const std::string& node);
  json uncordon_node(const std::string& node);
  json drain_zone(const std::string& zone, const DrainOptions& options);
  json drain_node(const std::string& node, const DrainOptions& options);
  json kill_pods(const KillOptions& options);
  json violate_pdb(const std::string& ns, const std::string& pdb, int by,
                   std::optional<int64_t> grace);
  json fail_zone(const std::string& zone);
  json restore_zone(const std::string& zone);

  // Zones currently faulted by this run, and every zone faulted at any point.
  std::set<std::string> faulted_zones() const;
  std::set<std::string> ever_faulted_zones() const;
  // Callback for the timeline (label) whenever a fault is applied.
  void on_fault(std::function<void(const std::string&)> fn) { on_fault_ = std::move(fn); }

  RollbackOutcome rollback(std::chrono::seconds deadline);

 private:
  // `listed`: the nodes as a list just returned them (each patch is tested
  // against its node's listed spec, no GET first); may be null.
  json node_mutation(const std::string& action, const std::vector<std::string>& nodes, bool undo,
                     const json* listed = nullptr);
  json drain(const std::vector<std::string>& nodes, const DrainOptions& options);
  json delete_pods(const std::string& action, const std::vector<json>& pods,
                   std::optional<int64_t> grace);
  void enter_zone(const std::string& zone, const std::vector<std::string>& nodes, const json& all);
  void leave_zone(const std::string& zone);
  std::vector<std::string> zone_node_names(const std::string& zone, const json& all);
  void check_stop() const;

  kube::Client client_;
  Journal& journal_;
  ChaosOptions options_;
  ClusterView view_;
  std::function<void(const std::string&)> on_fault_;
  mutable std::mutex mutex_;
  std::set<std::string> faulted_zones_, ever_faulted_;
  std::set<std::string> touched_nodes_;
};

}  // namespace faultline::chaos
