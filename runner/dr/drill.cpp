#include "runner/dr/drill.h"

#include <algorithm>
#include <climits>
#include <random>
#include <thread>

#include "runner/common/log.h"
#include "runner/dr/namespaces.h"
#include "runner/dr/options.h"
#include "runner/dr/results.h"

namespace faultline::dr {
namespace {

namespace res = kube::resources;
using kube::ApiError;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kPoll{250};
// How long a Backup made in one cluster may take to appear in another
// through Velero's backup sync (--backup-sync-period, 1m by default).
constexpr milliseconds kSyncWithin{std::chrono::minutes(3)};

std::string backup_name_of(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("name") && value["name"].is_string()) {
    return value["name"].get<std::string>();
  }
  return "";
}

json status_json(const Status& s) {
  return {{"name", s.name},         {"phase", s.phase},       {"ok", s.ok()},
          {"reason", s.describe()}, {"started", s.started},   {"completed", s.completed},
          {"items", s.items},       {"warnings", s.warnings}, {"errors", s.errors}};
}

}  // namespace

Drill::Drill(Cluster home, std::vector<Cluster> others, chaos::Journal* journal,
             DrillOptions options)
    : home_(std::move(home)),
      others_(std::move(others)),
      journal_(journal),
      options_(std::move(options)) {}

Cluster& Drill::cluster(const std::string& name) {
  if (name.empty() || name == home_.name) return home_;
  for (Cluster& c : others_) {
    if (c.name == name) return c;
  }
  std::string known;
  for (const Cluster& c : others_) known += (known.empty() ? "" : ", ") + c.name;
  throw DrError("cluster '" + name + "' is not named in the experiment's spec.dr.clusters" +
                (known.empty() ? std::string(" (none are)") : " (known: " + known + ")"));
}

Velero Drill::velero(const std::string& cluster_name) {
  return Velero(cluster(cluster_name).client, options_.velero_namespace);
}

void Drill::preflight() {
  Velero(home_.client, options_.velero_namespace)
      .check_installed("the run's cluster" + (home_.name.empty() ? "" : " (" + home_.name + ")"));
  for (Cluster& c : others_) {
    Velero(c.client, options_.velero_namespace).check_installed("cluster '" + c.name + "'");
  }
}

void Drill::require_backup(const std::string& name, const std::string& cluster_name) {
  if (!velero(cluster_name).find_backup(name)) {
    throw DrInputError("backup '" + name + "' does not exist in " +
                       (cluster_name.empty() ? std::string("the run's cluster")
                                             : "cluster '" + cluster_name + "'") +
                       " (namespace " + options_.velero_namespace + ")");
  }
}

void Drill::event(const std::string& text) {
  timeline_.push_back({{"t", options_.clock()}, {"event", text}});
  log::info("dr: " + text);
}

int Drill::journal_intent(const std::string& action, const std::string& kind, const std::string& ns,
                          const std::string& name, const std::string& cluster_name) {
  if (journal_ == nullptr) return -1;
  chaos::JournalEntry e;
  e.action = action;
  e.kind = kind;
  // Where it is made, so that `faultline recover` (another process, maybe
  // another machine) reaches the same cluster: dr::drill_undo.
  e.cluster = cluster_name == home_.name ? "" : cluster_name;
  e.context = cluster(cluster_name).context;
  e.ns = ns;
  e.name = name;
  return journal_->intend({e}).front();
}

void Drill::journal_done(int id, const std::string& state, const std::string& note) {
  if (journal_ == nullptr || id < 0) return;
  journal_->update(id, state, note, options_.clock());
  journal_->persist();
}

std::string Drill::next_name(const char* kind) {
  // Velero names are DNS labels; the run id may be long, so a short random
  // stem that is the same for the whole drill.
  static thread_local std::mt19937 rng{std::random_device{}()};
  if (counter_ == 0) {
    static const char* hex = "0123456789abcdef";
    stem_ = "faultline-";
    for (int i = 0; i < 8; ++i) stem_ += hex[rng() % 16];
  }
  return stem_ + "-" + kind + std::to_string(++counter_);
}

json Drill::backup(const json& options, std::stop_token stop) {
  const char* fn = "dr.backup";
  allow_keys(options, fn, {"namespaces", "wait", "exclude"});
  const auto namespaces = strings_opt(options, fn, "namespaces");
  if (namespaces.empty()) throw DrError("dr.backup: option 'namespaces' is required");
  const auto exclude = strings_opt(options, fn, "exclude");
  const auto within = duration_opt(options, fn, "wait", std::chrono::minutes(5));
  std::unique_lock lock(mutex_);
  for (const std::string& ns : namespaces) {
    if (!namespace_exists(home_.client, ns)) {
      throw DrError("dr.backup: namespace '" + ns + "' does not exist");
    }
  }
  // What the restore must reproduce, as the source is now (hashes only).
  std::map<std::string, Fingerprint> prints;
  for (const std::string& ns : namespaces) prints[ns] = take_fingerprint(home_.client, ns);

  BackupRequest request;
  request.name = next_name("b");
  request.namespaces = namespaces;
  request.excluded_resources = exclude;
  request.run_id = options_.run_id;
  const int id =
      journal_intent("create", "velero.io/backup", options_.velero_namespace, request.name, "");
  Velero v(home_.client, options_.velero_namespace);
  v.create_backup(request);
  made_.push_back({"backup", "", request.name, request.name, id});
  journal_done(id, "applied");
  for (auto& [ns, print] : prints) prints_[request.name + "/" + ns] = std::move(print);
  event("backup " + request.name + " started");
  lock.unlock();  // a long wait must not block rollback's view of made_
  const Status s = v.wait_backup(request.name, within, stop);
  lock.lock();
  backups_[s.name] = s;
  event("backup " + s.name + " " + s.describe());
  json out = status_json(s);
  out["namespaces"] = namespaces;
  if (!s.finished()) out["reason"] = "not finished after the wait: " + s.describe();
  return out;
}

json Drill::latest_backup(const json& options) {
  const char* fn = "dr.latest_backup";
  allow_keys(options, fn, {"schedule", "cluster"});
  const std::string schedule = string_opt(options, fn, "schedule", true);
  const std::string where = string_opt(options, fn, "cluster");
  std::scoped_lock lock(mutex_);
  const auto s = velero(where).latest_of_schedule(schedule);
  if (!s) {
    throw DrError("dr.latest_backup: schedule '" + schedule + "' has no Completed backup");
  }
  backups_[s->name] = *s;
  event("picked backup " + s->name + " of schedule " + schedule);
  return status_json(*s);
}

json Drill::disaster(const json& options) {
  const char* fn = "dr.disaster";
  allow_keys(options, fn, {"delete_namespace", "label"});
  const std::string ns = string_opt(options, fn, "delete_namespace");
  std::string label = string_opt(options, fn, "label");
  std::scoped_lock lock(mutex_);
  if (disaster_t_ >= 0) throw DrError("dr.disaster: the drill already had its disaster");
  if (!ns.empty() && options_.disaster_namespaces &&
      std::find(options_.disaster_namespaces->begin(), options_.disaster_namespaces->end(), ns) ==
          options_.disaster_namespaces->end()) {
    throw GuardError("dr.disaster: namespace '" + ns + "' is not in guards.namespaces");
  }
  if (!ns.empty()) {
    // Only a namespace a backup of this drill holds: rollback restores it.
    const bool backed_up = std::any_of(made_.begin(), made_.end(), [&](const Made& m) {
      return m.what == "backup" && backups_.count(m.name) && backups_.at(m.name).ok() &&
             prints_.count(m.name + "/" + ns);
    });
    if (!backed_up) {
      throw DrError("dr.disaster: namespace '" + ns +
                    "' is in no completed backup of this drill (it could not be put back)");
    }
  }
  disaster_t_ = options_.clock();
  disaster_epoch_ = options_.now();
  // RPO: the age of the newest restorable backup now, by Velero's clock
  // (the time it started reading the cluster).
  double newest = -1;
  for (const auto& [name, s] : backups_) {
    if (s.ok()) newest = std::max(newest, s.started);
  }
  rpo_s_ = newest >= 0 ? std::max(0.0, disaster_epoch_ - newest) : -1;
  if (!ns.empty()) {
    // "delete": what the disaster did; undone by restoring it in place.
    const int id = journal_intent("delete", "namespace", "", ns, "");
    made_.push_back({"source-namespace", "", ns, "", id});
    delete_namespace(home_.client, ns, Clock::now() + std::chrono::minutes(2));
    journal_done(id, "applied");  // "delete namespace": restored in place at rollback
    if (label.empty()) label = "namespace " + ns + " deleted";
  }
  event("disaster: " + (label.empty() ? std::string("declared by the script") : label));
  return {{"t", disaster_t_}, {"rpo_s", rpo_s_}};
}

json Drill::wait_workloads_ready(kube::Client& client, const std::string& ns, milliseconds within,
                                 std::stop_token stop) {
  const auto until = Clock::now() + within;
  json not_ready = json::array();
  while (true) {
    not_ready = json::array();
    int total = 0;
    for (const kube::Resource* r : {&res::kDeployments, &res::kStatefulSets}) {
      for (const json& w : client.list(*r, ns).value("items", json::array())) {
        ++total;
        const int want = w["spec"].value("replicas", 1);
        const json st = w.value("status", json::object());
        const bool current =
            st.value("observedGeneration", 0) >= w["metadata"].value("generation", 0);
        if (!current || st.value("readyReplicas", 0) < want) {
          not_ready.push_back(w["metadata"].value("name", ""));
        }
      }
    }
    if (not_ready.empty() || stop.stop_requested() || Clock::now() >= until) {
      return {{"ready", not_ready.empty()}, {"not_ready", not_ready}, {"workloads", total}};
    }
    std::this_thread::sleep_for(kPoll);
  }
}

json Drill::restore(const json& options, std::stop_token stop) {
  const char* fn = "dr.restore";
  allow_keys(options, fn,
             {"backup", "into_namespace", "from_namespace", "cluster", "wait", "ready_within",
              "accept_warnings", "resource_modifiers", "exclude"});
  if (!options.contains("backup")) throw DrError("dr.restore: option 'backup' is required");
  const std::string backup = backup_name_of(options["backup"]);
  if (backup.empty()) {
    throw DrError("dr.restore: option 'backup' must be a backup name or what dr.backup returned");
  }
  const std::string where = string_opt(options, fn, "cluster");
  std::string from = string_opt(options, fn, "from_namespace");
  const auto within = duration_opt(options, fn, "wait", std::chrono::minutes(5));
  const auto ready_within = duration_opt(options, fn, "ready_within", std::chrono::minutes(2));
  const int accept_warnings = count_opt(options, fn, "accept_warnings", 0);
  const std::string modifiers = string_opt(options, fn, "resource_modifiers");
  // Pods come back through their controllers; restored as objects they can
  // be invalid (a topology spread's matchLabelKeys, merged into its
  // labelSelector by the API server, fails validation when sent back).
  std::vector<std::string> exclude = {"pods"};
  if (options.contains("exclude")) {
    exclude = options["exclude"].is_array() && options["exclude"].empty()
                  ? std::vector<std::string>{}
                  : strings_opt(options, fn, "exclude");
  }

  std::unique_lock lock(mutex_);
  Cluster& target = cluster(where);
  Velero v(target.client, options_.velero_namespace);
  // A backup made in another cluster reaches this one through Velero's sync.
  std::optional<Status> found = v.find_backup(backup);
  const bool elsewhere = !where.empty() && where != home_.name;
  const auto sync_until = Clock::now() + kSyncWithin;
  while (!found && elsewhere && backups_.count(backup) && Clock::now() < sync_until &&
         !stop.stop_requested()) {
    lock.unlock();
    std::this_thread::sleep_for(kPoll);
    lock.lock();
    found = v.find_backup(backup);
  }
  const std::string where_text = elsewhere ? "cluster '" + where + "'" : "the run's cluster";
  if (!found) throw DrError("dr.restore: backup '" + backup + "' does not exist in " + where_text);
  if (from.empty()) {
    std::vector<std::string> sources;
    for (const auto& [key, print] : prints_) {
      if (key.rfind(backup + "/", 0) == 0) sources.push_back(key.substr(backup.size() + 1));
    }
    if (sources.size() != 1) {
      throw DrError("dr.restore: option 'from_namespace' is required (backup '" + backup +
                    "' holds " +
                    (sources.empty() ? "namespaces this drill did not record"
                                     : std::to_string(sources.size()) + " namespaces") +
                    ")");
    }
    from = sources.front();
  }
  std::string into = string_opt(options, fn, "into_namespace");
  if (into.empty()) into = from;
  if (namespace_exists(target.client, into)) {
    throw DrError("dr.restore: namespace '" + into + "' already exists in " + where_text +
                  " (a drill restores only into a namespace it creates)");
  }

  RestoreRequest request;
  request.name = next_name("r");
  request.backup = backup;
  request.namespaces = {from};
  if (into != from) request.mapping = {{from, into}};
  request.resource_modifiers = modifiers;
  request.excluded_resources = exclude;
  request.run_id = options_.run_id;
  const int ns_id = journal_intent("create", "namespace", "", into, where);
  made_.push_back({"namespace", where, into, backup, ns_id});
  const int r_id =
      journal_intent("create", "velero.io/restore", options_.velero_namespace, request.name, where);
  v.create_restore(request);
  made_.push_back({"restore", where, request.name, backup, r_id});
  journal_done(ns_id, "applied");
  journal_done(r_id, "applied");
  event("restore " + request.name + " of " + backup + " into " + into + " (" + where_text +
        ") started");
  lock.unlock();
  const Status s = v.wait_restore(request.name, within, stop);
  json ready = {{"ready", false}, {"not_ready", json::array()}, {"workloads", 0}};
  if (s.finished() && s.phase != "Failed" && s.phase != "FailedValidation") {
    ready = wait_workloads_ready(target.client, into, ready_within, stop);
  }
  Fingerprint restored;
  if (namespace_exists(target.client, into)) restored = take_fingerprint(target.client, into);
  // What the warnings and errors say (Velero's status has only counts).
  json warning_text = json::array(), error_text = json::array();
  int counted_warnings = s.warnings;
  if (s.finished() && (s.warnings > 0 || s.errors > 0)) {
    try {
      const RestoreMessages m = restore_messages(target.client, options_.velero_namespace,
                                                 request.name, std::chrono::seconds(30));
      counted_warnings = 0;
      for (const std::string& w : m.warnings) {
        warning_text.push_back(w);
        if (!expected_warning(w)) ++counted_warnings;
      }
      for (const std::string& e : m.errors) error_text.push_back(e);
    } catch (const std::exception& e) {
      warning_text.push_back(std::string("(could not read the restore's results: ") + e.what() +
                             ")");
    }
  }
  lock.lock();
  const double t_done = options_.clock();
  const int expected_warnings = s.warnings - counted_warnings;
  event("restore " + request.name + " " + s.describe() +
        (expected_warnings > 0 ? " (" + std::to_string(expected_warnings) +
                                     " expected on a fresh namespace, not counted)"
                               : ""));
  if (ready["ready"].get<bool>())
    event("restored workloads Ready in " + into + (elsewhere ? " (" + where_text + ")" : ""));

  json mismatches = json::array();
  const auto source = prints_.find(backup + "/" + from);
  const bool verified = source != prints_.end();
  if (verified) {
    for (const Mismatch& m : compare(source->second, restored)) {
      mismatches.push_back({{"object", m.object}, {"what", m.what}});
    }
  }
  std::string reason;
  if (!s.finished()) {
    reason = "restore not finished after the wait: " + s.describe();
  } else if (s.phase != "Completed") {
    reason = "restore " + s.describe();
  } else if (!ready["ready"].get<bool>()) {
    reason = "restored workloads not Ready within the wait: " + ready["not_ready"].dump();
  } else if (!mismatches.empty()) {
    reason =
        "data check failed: " + mismatches[0]["object"].get<std::string>() + " " +
        mismatches[0]["what"].get<std::string>() +
        (mismatches.size() > 1 ? " (and " + std::to_string(mismatches.size() - 1) + " more)" : "");
  } else if (s.errors > 0 || counted_warnings > accept_warnings) {
    reason = "restore completed with " + s.describe().substr(s.phase.size() + 2) +
             (counted_warnings != s.warnings ? " (" + std::to_string(counted_warnings) + " counted)"
                                             : "") +
             " (accepted: " +
             (accept_warnings == INT_MAX ? std::string("any") : std::to_string(accept_warnings)) +
             " warnings)";
  }
  const bool ok = reason.empty();
  if (!mismatches.empty())
    event("data check: " + std::to_string(mismatches.size()) + " mismatch(es)");
  json out = {{"name", request.name},
              {"backup", backup},
              {"cluster", where},
              {"namespace", into},
              {"from_namespace", from},
              {"phase", s.phase},
              {"warnings", s.warnings},
              {"errors", s.errors},
              {"ready", ready["ready"]},
              {"not_ready", ready["not_ready"]},
              {"verified", verified},
              {"mismatches", mismatches},
              {"ok", ok},
              {"reason", ok ? "" : reason},
              {"t_done", t_done},
              {"warning_messages", warning_text},
              {"error_messages", error_text},
              {"accept_warnings", accept_warnings == INT_MAX ? -1 : accept_warnings}};
  if (ok && disaster_t_ >= 0 && recovered_t_ < 0) {
    recovered_t_ = t_done;
    out["rto_s"] = recovered_t_ - disaster_t_;
  }
  restores_.push_back(out);
  return out;
}

json Drill::recovered() {
  std::scoped_lock lock(mutex_);
  if (disaster_t_ < 0) throw DrError("dr.recovered: no disaster yet (call dr.disaster first)");
  recovered_t_ = options_.clock();
  event("restored service passed the script's check");
  return {{"rto_s", recovered_t_ - disaster_t_}};
}

std::optional<std::string> Drill::undo(const Made& made, Clock::time_point until) {
  Cluster& target = cluster(made.cluster);
  Velero v(target.client, options_.velero_namespace);
  const auto left = std::chrono::duration_cast<milliseconds>(until - Clock::now());
  if (made.what == "restore") {
    v.delete_restore(made.name);
    return std::nullopt;
  }
  if (made.what == "namespace") {
    if (!delete_namespace(target.client, made.name, until)) return "namespace still terminating";
    return std::nullopt;
  }
  if (made.what == "source-namespace") {
    // The disaster deleted it: put it back from the drill's own backup.
    std::string from;
    for (const Made& m : made_) {
      if (m.what == "backup" && backups_.count(m.name) && backups_.at(m.name).ok() &&
          prints_.count(m.name + "/" + made.name)) {
        from = m.name;
      }
    }
    if (from.empty()) return "no completed backup holds it";
    if (namespace_exists(target.client, made.name)) return std::nullopt;  // put back already
    RestoreRequest request;
    request.name = next_name("r");
    request.backup = from;
    request.namespaces = {made.name};
    request.excluded_resources = {"pods"};  // as dr.restore: their controllers bring them back
    request.run_id = options_.run_id;
    v.create_restore(request);
    const Status s = v.wait_restore(request.name, left);
    v.delete_restore(request.name);
    if (s.phase != "Completed" && s.phase != "PartiallyFailed") {
      return "restore in place " + s.describe();
    }
    event("source namespace " + made.name + " restored in place from " + from);
    return std::nullopt;
  }
  // A backup: its data in the bucket and the Backup object (Velero's own
  // deletion), then the copies Velero's sync made in the other clusters.
  if (!v.delete_backup(made.name, left)) return "backup still there (deletion pending)";
  for (Cluster& c : others_) {
    try {
      c.client.remove(kBackups, options_.velero_namespace, made.name);
    } catch (const ApiError& e) {
      if (e.kind() != ApiError::Kind::NotFound) throw;
    }
  }
  return std::nullopt;
}

std::vector<std::string> Drill::rollback(std::chrono::seconds deadline) {
  std::scoped_lock lock(mutex_);
  const auto until = Clock::now() + deadline;
  std::vector<std::string> left;
  for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
    std::optional<std::string> problem;
    try {
      problem = undo(*it, until);
    } catch (const std::exception& e) {
      problem = e.what();
    }
    const std::string what = it->what + " " + it->name +
                             (it->cluster.empty() ? "" : " in cluster '" + it->cluster + "'");
    if (problem) {
      left.push_back(what + ": " + *problem);
      journal_done(it->journal_id, "failed", "rollback failed: " + *problem);
    } else {
      journal_done(it->journal_id, "reverted");
    }
  }
  if (!made_.empty())
    event(left.empty() ? "drill cleaned up"
                       : "drill left " + std::to_string(left.size()) + " item(s)");
  made_.clear();
  return left;
}

json Drill::record() const {
  std::scoped_lock lock(mutex_);
  json backups = json::array();
  for (const auto& [name, s] : backups_) backups.push_back(status_json(s));
  json out = {{"backups", backups}, {"restores", restores_}, {"timeline", timeline_}};
  if (disaster_t_ >= 0) out["disaster_t"] = disaster_t_;
  if (rpo_s_ >= 0) out["rpo_s"] = rpo_s_;
  if (recovered_t_ >= 0 && disaster_t_ >= 0) out["rto_s"] = recovered_t_ - disaster_t_;
  return out;
}

}  // namespace faultline::dr
