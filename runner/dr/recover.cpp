#include "runner/dr/recover.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "runner/chaos/lock.h"
#include "runner/common/error.h"
#include "runner/common/log.h"
#include "runner/dr/namespaces.h"
#include "runner/dr/velero.h"

namespace faultline::dr {
namespace {

using chaos::JournalEntry;
using kube::ApiError;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kPoll{250};
constexpr std::chrono::seconds kClockSlack{std::chrono::minutes(5)};

bool pending(const JournalEntry& e) {
  return chaos::is_drill_entry(e) &&
         (e.state == "intended" || e.state == "applied" || e.state == "failed");
}

std::string where(const std::string& cluster) {
  return cluster.empty() ? std::string("the run's cluster") : "cluster '" + cluster + "'";
}

milliseconds left_until(Clock::time_point until) {
  return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(until - Clock::now()));
}

std::optional<json> get_or_none(kube::Client& client, const kube::Resource& r,
                                const std::string& ns, const std::string& name) {
  try {
    return client.get(r, ns, name);
  } catch (const ApiError& e) {
    if (e.kind() == ApiError::Kind::NotFound) return std::nullopt;
    throw;
  }
}

std::string recover_name() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::string name = "faultline-recover-";
  for (int i = 0; i < 8; ++i) name += "0123456789abcdef"[rng() % 16];
  return name;
}

class Undoer {
 public:
  Undoer(kube::Client home, RecoverTargets targets)
      : home_(std::move(home)), targets_(std::move(targets)) {}

  std::vector<std::string> run(std::vector<JournalEntry>& entries, const json& meta,
                               std::chrono::seconds deadline, std::stop_token stop) {
    const auto until = Clock::now() + deadline;
    started_ = meta.is_object() && meta.contains("started_at") && meta["started_at"].is_string()
                   ? chaos::parse_rfc3339(meta["started_at"].get<std::string>())
                   : std::nullopt;
    std::vector<std::string> left;
    for (size_t i = entries.size(); i-- > 0;) {
      JournalEntry& e = entries[i];
      if (!pending(e)) continue;
      const std::string what = e.kind + "/" + e.name + " in " + where(e.cluster);
      std::optional<std::string> problem;
      if (stop.stop_requested()) {
        problem = "not undone (stopped)";
      } else {
        try {
          problem = undo(e, entries, until);
        } catch (const std::exception& ex) {
          problem = ex.what();
        }
      }
      if (problem) {
        e.state = "failed";
        e.note = "rollback failed: " + *problem;
        left.push_back(what + ": " + e.action + " not undone: " + *problem);
      } else {
        e.state = "reverted";
        log::info("recover: " + e.action + " " + what + " undone");
      }
    }
    return left;
  }

 private:
  kube::Client& client_for(const std::string& cluster, const std::string& recorded) {
    if (cluster.empty()) return home_;
    if (auto it = clients_.find(cluster); it != clients_.end()) return it->second;
    const auto given = targets_.context_for.find(cluster);
    const std::string context = given != targets_.context_for.end() ? given->second : recorded;
    const std::string hint = " (pass --context-for " + cluster + "=CONTEXT)";
    if (context.empty())
      throw std::runtime_error("the journal names no kubeconfig context for cluster '" + cluster +
                               "'" + hint);
    kube::LoadOptions options = targets_.base;
    options.context = context;
    options.namespace_override.clear();
    options.allow_in_cluster = false;  // another cluster is never the one we run in
    try {
      return clients_.emplace(cluster, kube::Client(kube::load_config(options))).first->second;
    } catch (const InputError& ex) {
      throw std::runtime_error("cannot reach cluster '" + cluster + "' through context '" +
                               context + "': " + ex.what() + hint);
    }
  }

  std::optional<std::string> undo(const JournalEntry& e, const std::vector<JournalEntry>& all,
                                  Clock::time_point until) {
    kube::Client& client = client_for(e.cluster, e.context);
    if (e.kind == "velero.io/restore") return undo_restore(client, e, until);
    if (e.kind == "namespace" && e.action == "create") {
      if (auto older = older_than_the_run(client, e.name)) return older;
      if (!delete_namespace(client, e.name, until)) return "namespace still terminating";
      return std::nullopt;
    }
    if (e.kind == "namespace") return put_back_source(client, e, all, until);
    if (e.kind == "velero.io/backup") return undo_backup(client, e, all, until);
    return "unknown restore-drill entry (" + e.action + " " + e.kind + ")";
  }

  // The drill restored into a namespace that did not exist: one created
  // before its run started (kClockSlack for the runner's and the API
  // server's clocks) is someone else's, reached through a wrong context
  // (--context-for naming the source cluster, say). Never deleted.
  std::optional<std::string> older_than_the_run(kube::Client& client, const std::string& ns) {
    const auto found = get_or_none(client, kube::resources::kNamespaces, "", ns);
    if (!found) return std::nullopt;
    const std::string created = (*found)["metadata"].value("creationTimestamp", "");
    const auto at = chaos::parse_rfc3339(created);
    if (!started_)
      return "the journal has no start time to tell the drill's namespace from another";
    if (at && *at >= *started_ - kClockSlack.count()) return std::nullopt;
    return "namespace created " + created +
           ", before the drill started: not the drill's (a wrong --context-for?); left alone";
  }

  // A restore still running keeps creating objects in its namespace: it
  // finishes first (a small one takes seconds), so deleting that namespace
  // afterwards is final.
  std::optional<std::string> undo_restore(kube::Client& client, const JournalEntry& e,
                                          Clock::time_point until) {
    Velero v(client, e.ns);
    while (Clock::now() < until) {
      const auto r = get_or_none(client, kRestores, e.ns, e.name);
      if (!r || status_of(*r).finished()) break;
      std::this_thread::sleep_for(kPoll);
    }
    v.delete_restore(e.name);
    while (get_or_none(client, kRestores, e.ns, e.name)) {
      if (Clock::now() >= until) return "restore still there (deletion pending)";
      std::this_thread::sleep_for(kPoll);
    }
    return std::nullopt;
  }

  std::optional<std::string> put_back_source(kube::Client& client, const JournalEntry& e,
                                             const std::vector<JournalEntry>& all,
                                             Clock::time_point until) {
    if (namespace_exists(client, e.name)) return std::nullopt;  // put back already
    // The newest Completed backup of this drill, in the same cluster, that holds it.
    std::string from, velero_ns;
    for (const JournalEntry& b : all) {
      if (b.kind != "velero.io/backup" || b.cluster != e.cluster) continue;
      const auto obj = get_or_none(client, kBackups, b.ns, b.name);
      if (!obj || !status_of(*obj).ok()) continue;
      const json held = (*obj)["spec"].value("includedNamespaces", json::array());
      if (std::find(held.begin(), held.end(), e.name) != held.end()) {
        from = b.name;
        velero_ns = b.ns;
      }
    }
    if (from.empty()) return "no Completed backup of the drill holds it";
    Velero v(client, velero_ns);
    RestoreRequest request;
    request.name = recover_name();
    request.backup = from;
    request.namespaces = {e.name};
    request.excluded_resources = {"pods"};  // as dr.restore: their controllers bring them back
    v.create_restore(request);
    const Status s = v.wait_restore(request.name, left_until(until));
    v.delete_restore(request.name);
    if (s.phase != "Completed" && s.phase != "PartiallyFailed")
      return "restore in place from " + from + " " + s.describe();
    log::info("recover: namespace " + e.name + " restored in place from backup " + from);
    return std::nullopt;
  }

  std::optional<std::string> undo_backup(kube::Client& client, const JournalEntry& e,
                                         const std::vector<JournalEntry>& all,
                                         Clock::time_point until) {
    if (!Velero(client, e.ns).delete_backup(e.name, left_until(until)))
      return "backup still there (deletion pending)";
    // Its data is gone from the bucket: the copies Velero's sync made in the
    // drill's other clusters can go for good.
    std::set<std::string> others;
    for (const JournalEntry& o : all)
      if (chaos::is_drill_entry(o) && o.cluster != e.cluster) others.insert(o.cluster);
    for (const std::string& cluster : others) {
      const JournalEntry* any = nullptr;
      for (const JournalEntry& o : all)
        if (o.cluster == cluster && chaos::is_drill_entry(o)) any = &o;
      try {
        client_for(cluster, any->context).remove(kBackups, e.ns, e.name);
      } catch (const ApiError& ex) {
        if (ex.kind() != ApiError::Kind::NotFound) throw;
      }
    }
    return std::nullopt;
  }

  kube::Client home_;
  RecoverTargets targets_;
  std::map<std::string, kube::Client> clients_;
  std::optional<double> started_;  // the run's start (seconds since the epoch)
};

}  // namespace

chaos::DrillUndo drill_undo(kube::Client home, RecoverTargets targets) {
  auto undoer = std::make_shared<Undoer>(std::move(home), std::move(targets));
  return
      [undoer](std::vector<JournalEntry>& entries, const json& meta, std::chrono::seconds deadline,
               std::stop_token stop) { return undoer->run(entries, meta, deadline, stop); };
}

std::pair<std::string, std::string> parse_context_for(const std::string& arg) {
  const auto eq = arg.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
    throw InputError(
        "--context-for: expected NAME=CONTEXT (a spec.dr.clusters name and a kubeconfig "
        "context), got \"" +
        arg + "\"");
  return {arg.substr(0, eq), arg.substr(eq + 1)};
}

}  // namespace faultline::dr
