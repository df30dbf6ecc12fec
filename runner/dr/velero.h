// Velero's API as faultline drives it: Backup, Restore and
// DeleteBackupRequest objects (velero.io/v1) in Velero's namespace, created
// and watched through the Kubernetes API like any other resource. Velero
// does the work; this only asks and reads what it reports.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

#include "runner/kube/client.h"

namespace faultline::dr {

using json = nlohmann::json;

extern const kube::Resource kBackups, kRestores, kDeleteBackupRequests, kSchedules,
    kBackupStorageLocations;

// A drill cannot run: Velero is missing from the cluster, or a backup named
// by the experiment does not exist. The run refuses before touching anything.
class DrInputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What Velero says of a Backup or a Restore.
struct Status {
  std::string name;
  std::string phase;    // Completed, PartiallyFailed, Failed, FailedValidation, InProgress...
  double started = -1;  // seconds since the epoch (Velero's timestamps), -1 unknown
  double completed = -1;
  int warnings = 0;
  int errors = 0;
  std::string failure_reason;           // status.failureReason
  std::vector<std::string> validation;  // status.validationErrors
  int items = 0;                        // progress.itemsBackedUp / itemsRestored
  bool finished() const;                // no longer New/InProgress/...
  bool ok() const { return phase == "Completed"; }
  // "Failed: <reason>", "PartiallyFailed: 2 errors, 1 warning", ...
  std::string describe() const;
};

Status status_of(const json& object);

struct BackupRequest {
  std::string name;
  std::vector<std::string> namespaces;
  std::vector<std::string> excluded_resources;
  std::string storage_location;  // "" = Velero's default
  std::string ttl = "24h0m0s";
  std::string run_id;  // labelled faultline.io/run, so recover finds it
};

struct RestoreRequest {
  std::string name;
  std::string backup;
  std::vector<std::string> namespaces;                       // what of the backup to restore
  std::vector<std::pair<std::string, std::string>> mapping;  // source ns -> restored ns
  // A ConfigMap of Velero resource modifier rules (JSON patches applied
  // to objects as they are restored), "" for none.
  std::string resource_modifiers;
  std::vector<std::string> excluded_resources;
  std::string run_id;
};

class Velero {
 public:
  Velero(kube::Client client, std::string ns = "velero");

  // DrInputError naming the cluster when Velero is not there: its CRDs are
  // missing, or no BackupStorageLocation is Available. `where` names the
  // cluster in the message ("context dr-region").
  void check_installed(const std::string& where);
  std::optional<Status> find_backup(const std::string& name);
  // The newest Completed backup made by the Schedule, nullopt when none.
  std::optional<Status> latest_of_schedule(const std::string& schedule);

  // Each returns the created object's name.
  std::string create_backup(const BackupRequest& request);
  std::string create_restore(const RestoreRequest& request);
  // Polls until the object's phase is final or `within` passes (then the
  // last status, unfinished). A stop request returns early, unfinished.
  Status wait_backup(const std::string& name, std::chrono::milliseconds within,
                     std::stop_token stop = {});
  Status wait_restore(const std::string& name, std::chrono::milliseconds within,
                      std::stop_token stop = {});
  // Deletes the backup and its data in the bucket (a DeleteBackupRequest,
  // as `velero backup delete` does) and waits up to `within` for it to go.
  // Returns false if it was still there.
  bool delete_backup(const std::string& name, std::chrono::milliseconds within);
  void delete_restore(const std::string& name);
  const std::string& ns() const { return ns_; }

 private:
  Status wait(const kube::Resource& resource, const std::string& name,
              std::chrono::milliseconds within, std::stop_token stop);

  kube::Client client_;
  std::string ns_;
};

}  // namespace faultline::dr
