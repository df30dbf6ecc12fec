#include "runner/dr/velero.h"

#include <algorithm>
#include <thread>

#include "runner/chaos/lock.h"

namespace faultline::dr {

const kube::Resource kBackups{"velero.io", "v1", "backups", true};
const kube::Resource kRestores{"velero.io", "v1", "restores", true};
const kube::Resource kDeleteBackupRequests{"velero.io", "v1", "deletebackuprequests", true};
const kube::Resource kSchedules{"velero.io", "v1", "schedules", true};
const kube::Resource kBackupStorageLocations{"velero.io", "v1", "backupstoragelocations", true};

namespace {

using kube::ApiError;

constexpr const char* kRunLabel = "faultline.io/run";

double time_of(const json& status, const char* field) {
  if (!status.contains(field) || !status[field].is_string()) return -1;
  return chaos::parse_rfc3339(status[field].get<std::string>()).value_or(-1);
}

json labels_for(const std::string& run_id) {
  json labels = {{"app.kubernetes.io/managed-by", "faultline"}};
  if (!run_id.empty()) labels[kRunLabel] = run_id;
  return labels;
}

std::string plural(int n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

bool Status::finished() const {
  return phase == "Completed" || phase == "PartiallyFailed" || phase == "Failed" ||
         phase == "FailedValidation";
}

std::string Status::describe() const {
  std::string out = phase.empty() ? "New" : phase;
  std::vector<std::string> parts;
  if (!failure_reason.empty()) parts.push_back(failure_reason);
  for (const std::string& v : validation) parts.push_back(v);
  if (errors > 0) parts.push_back(plural(errors, "error"));
  if (warnings > 0) parts.push_back(plural(warnings, "warning"));
  for (size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? ": " : ", ") + parts[i];
  return out;
}

Status status_of(const json& object) {
  Status s;
  s.name = object["metadata"].value("name", "");
  const json status = object.value("status", json::object());
  s.phase = status.value("phase", "");
  s.started = time_of(status, "startTimestamp");
  s.completed = time_of(status, "completionTimestamp");
  s.warnings = status.value("warnings", 0);
  s.errors = status.value("errors", 0);
  s.failure_reason = status.value("failureReason", "");
  for (const json& v : status.value("validationErrors", json::array())) {
    if (v.is_string()) s.validation.push_back(v.get<std::string>());
  }
  const json progress = status.value("progress", json::object());
  s.items = progress.value("itemsBackedUp", progress.value("itemsRestored", 0));
  return s;
}

Velero::Velero(kube::Client client, std::string ns)
    : client_(std::move(client)), ns_(std::move(ns)) {}

void Velero::check_installed(const std::string& where) {
  json locations;
  try {
    locations = client_.list(kBackupStorageLocations, ns_);
  } catch (const ApiError& e) {
    if (e.kind() != ApiError::Kind::NotFound) throw;
    throw DrInputError("Velero is not installed in " + where +
                       " (no velero.io/v1 BackupStorageLocation API)");
  }
  for (const json& bsl : locations.value("items", json::array())) {
    if (bsl.value("status", json::object()).value("phase", "") == "Available") return;
  }
  throw DrInputError("Velero in " + where +
                     " has no Available BackupStorageLocation in namespace " + ns_);
}

std::optional<Status> Velero::find_backup(const std::string& name) {
  try {
    return status_of(client_.get(kBackups, ns_, name));
  } catch (const ApiError& e) {
    if (e.kind() == ApiError::Kind::NotFound) return std::nullopt;
    throw;
  }
}

std::optional<Status> Velero::latest_of_schedule(const std::string& schedule) {
  kube::ListOptions options;
  options.label_selector = "velero.io/schedule-name=" + schedule;
  std::optional<Status> best;
  for (const json& item : client_.list(kBackups, ns_, options).value("items", json::array())) {
    Status s = status_of(item);
    if (s.ok() && (!best || s.completed > best->completed)) best = s;
  }
  return best;
}

std::string Velero::create_backup(const BackupRequest& request) {
  json spec = {{"includedNamespaces", request.namespaces},
               {"snapshotVolumes", false},
               {"defaultVolumesToFsBackup", false},
               {"ttl", request.ttl}};
  if (!request.excluded_resources.empty()) spec["excludedResources"] = request.excluded_resources;
  if (!request.storage_location.empty()) spec["storageLocation"] = request.storage_location;
  const json body = {{"apiVersion", "velero.io/v1"},
                     {"kind", "Backup"},
                     {"metadata", {{"name", request.name}, {"labels", labels_for(request.run_id)}}},
                     {"spec", spec}};
  return client_.create(kBackups, ns_, body)["metadata"].value("name", "");
}

std::string Velero::create_restore(const RestoreRequest& request) {
  json mapping = json::object();
  for (const auto& [from, to] : request.mapping) mapping[from] = to;
  json spec = {{"backupName", request.backup}, {"restorePVs", false}};
  if (!request.namespaces.empty()) spec["includedNamespaces"] = request.namespaces;
  if (!mapping.empty()) spec["namespaceMapping"] = mapping;
  if (!request.excluded_resources.empty()) spec["excludedResources"] = request.excluded_resources;
  if (!request.resource_modifiers.empty()) {
    spec["resourceModifier"] = {{"kind", "ConfigMap"}, {"name", request.resource_modifiers}};
  }
  const json body = {{"apiVersion", "velero.io/v1"},
                     {"kind", "Restore"},
                     {"metadata", {{"name", request.name}, {"labels", labels_for(request.run_id)}}},
                     {"spec", spec}};
  return client_.create(kRestores, ns_, body)["metadata"].value("name", "");
}

Status Velero::wait(const kube::Resource& resource, const std::string& name,
                    std::chrono::milliseconds within, std::stop_token stop) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (true) {
    Status s = status_of(client_.get(resource, ns_, name));
    if (s.finished() || stop.stop_requested() || std::chrono::steady_clock::now() >= deadline) {
      return s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

Status Velero::wait_backup(const std::string& name, std::chrono::milliseconds within,
                           std::stop_token stop) {
  return wait(kBackups, name, within, stop);
}

Status Velero::wait_restore(const std::string& name, std::chrono::milliseconds within,
                            std::stop_token stop) {
  return wait(kRestores, name, within, stop);
}

bool Velero::delete_backup(const std::string& name, std::chrono::milliseconds within) {
  if (!find_backup(name)) return true;
  json labels = labels_for("");
  labels["velero.io/backup-name"] = name;
  const json body = {{"apiVersion", "velero.io/v1"},
                     {"kind", "DeleteBackupRequest"},
                     {"metadata", {{"generateName", name.substr(0, 40) + "-"}, {"labels", labels}}},
                     {"spec", {{"backupName", name}}}};
  client_.create(kDeleteBackupRequests, ns_, body);
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!find_backup(name)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return !find_backup(name);
}

void Velero::delete_restore(const std::string& name) {
  try {
    client_.remove(kRestores, ns_, name);
  } catch (const ApiError& e) {
    if (e.kind() != ApiError::Kind::NotFound) throw;
  }
}

}  // namespace faultline::dr
