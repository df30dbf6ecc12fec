// A restore drill: back up with Velero (or pick a Schedule's latest backup),
// have the disaster (lose the namespace, or the region), restore into a new
// namespace or another cluster, wait for the restored workloads to be Ready,
// check the data against the source, and measure RTO and RPO. Everything it
// creates (backups, restores, restored namespaces) is journaled before it is
// made and removed at rollback; a source namespace the disaster deleted is
// restored in place at rollback. Thread-safe: the script thread drives it,
// the main thread rolls it back.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "runner/chaos/journal.h"
#include "runner/common/error.h"
#include "runner/dr/fingerprint.h"
#include "runner/dr/velero.h"
#include "runner/kube/client.h"

namespace faultline::dr {

using json = nlohmann::json;

// A cluster the drill may act on: "" is the run's own (the source region),
// others are the experiment's named contexts (spec.dr.clusters).
struct Cluster {
  std::string name;
  kube::Client client;
  std::string context{};  // the kubeconfig context that reached it (journaled for recover)
};

// A script asked for something the drill cannot do (unknown option, a
// cluster not named in the experiment, a namespace that already exists).
// An InputError: the Lua host raises it in the script at its file:line.
class DrError : public InputError {
 public:
  using InputError::InputError;
};

struct DrillOptions {
  std::string run_id;
  std::string velero_namespace = "velero";
  std::function<double()> clock = [] { return 0.0; };  // seconds since the run started
  // Namespaces dr.disaster may delete (the experiment's guards.namespaces);
  // nullopt: any the drill backed up.
  std::optional<std::vector<std::string>> disaster_namespaces;
  std::function<double()> now = [] {  // seconds since the epoch
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
};

class Drill {
 public:
  // `journal` may be null (tests of the pieces); a run always passes one.
  Drill(Cluster home, std::vector<Cluster> others, chaos::Journal* journal, DrillOptions options);

  // Before anything is touched: Velero answers in every cluster
  // (DrInputError naming the cluster otherwise).
  void preflight();
  // DrInputError when `name` is not a Backup Velero knows in `cluster`.
  void require_backup(const std::string& name, const std::string& cluster);

  // Script calls (option tables as JSON; results as JSON). Each raises
  // DrError for misuse; a failed backup or restore is a result, not an error.
  json backup(const json& options, std::stop_token stop = {});
  json latest_backup(const json& options);
  json disaster(const json& options);
  json restore(const json& options, std::stop_token stop = {});
  json recovered();  // the script's own check of the restored service passed

  // Undoes what the drill made, newest first; returns what is left.
  std::vector<std::string> rollback(std::chrono::seconds deadline);

  // For the report and the SLOs: {backups, restores, disaster, rto_s, rpo_s,
  // timeline=[{t, event}]}.
  json record() const;

 private:
  struct Made {
    std::string what;  // backup | restore | namespace | source-namespace
    std::string cluster, name, backup;
    int journal_id = -1;
  };
  Cluster& cluster(const std::string& name);
  Velero velero(const std::string& cluster_name);
  void event(const std::string& text);
  int journal_intent(const std::string& action, const std::string& kind, const std::string& ns,
                     const std::string& name, const std::string& cluster);
  void journal_done(int id, const std::string& state, const std::string& note = "");
  std::string next_name(const char* kind);
  json wait_workloads_ready(kube::Client& client, const std::string& ns,
                            std::chrono::milliseconds within, std::stop_token stop);
  std::optional<std::string> undo(const Made& made, std::chrono::steady_clock::time_point until);

  Cluster home_;
  std::vector<Cluster> others_;
  chaos::Journal* journal_;
  DrillOptions options_;
  mutable std::mutex mutex_;
  std::vector<Made> made_;
  std::map<std::string, Fingerprint>
      prints_;                             // backup name -> source ns -> print (key "backup/ns")
  std::map<std::string, Status> backups_;  // by name
  json restores_ = json::array();
  json timeline_ = json::array();
  double disaster_t_ = -1, disaster_epoch_ = -1, recovered_t_ = -1;
  double rpo_s_ = -1;
  int counter_ = 0;
  std::string stem_;
};

}  // namespace faultline::dr
