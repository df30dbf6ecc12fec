// Chaos::drain, as kubectl drain does it (pkg/drain): the filter chain, then
// every eligible pod evicted under one deadline, then one wait for all of
// them. Unlike kubectl, evictions are paced by the PDBs' disruptionsAllowed
// (EvictionQueue, fed by a PDB watch) instead of a 5 s sleep on each 429,
// and the wait is one watch of the pods (DrainedPods) instead of a GET per
// pod (issue 14).
#include <atomic>
#include <thread>

#include "runner/chaos/chaos.h"
#include "runner/chaos/drain_watches.h"
#include "runner/chaos/eviction_queue.h"
#include "runner/common/error.h"
#include "runner/common/log.h"
#include "runner/common/parallel.h"

namespace faultline::chaos {

namespace res = kube::resources;
using Kind = kube::ApiError::Kind;

namespace {

// The pod we meant (by UID) no longer exists: deleted, or replaced by a new
// pod under the same name (a StatefulSet's). Asked of the API server, not
// the watch: it decides whether an eviction's 404 or 409 was ours.
bool pod_gone(kube::Client& client, const std::string& ns, const std::string& name,
              const std::string& uid) {
  try {
    return client.get(res::kPods, ns, name)["metadata"].value("uid", "") != uid;
  } catch (const kube::ApiError& e) {
    if (e.kind() == Kind::NotFound) return true;
    throw;
  }
}

// kubectl drain's filter chain, in its order: why a pod is not evicted, or "".
std::string skip_reason(const DrainPod& pod, const Guards& guards, bool delete_emptydir_data) {
  if (pod.terminating) return "already terminating";
  if (pod.controller_kind == "DaemonSet") return "DaemonSet-managed";
  if (pod.mirror) return "mirror pod";
  if (pod.phase == "Succeeded" || pod.phase == "Failed") return "finished (" + pod.phase + ")";
  if (!guards.namespace_allowed(pod.ns)) return "namespace not in guards.namespaces";
  if (pod.controller_kind.empty()) return "not managed by a controller (would be lost)";
  if (pod.emptydir && !delete_emptydir_data)
    return "uses emptyDir (its data would be lost; drain option delete_emptydir_data = true "
           "evicts it)";
  return "";
}

// Tells the timeline of an admitted eviction. Its failure is the record's,
// not the eviction's (that happened): warned, and the drain goes on.
void report_evicted(const ChaosOptions& options, const std::string& ns, const std::string& name,
                    const std::string& node, double t) {
  if (!options.on_evicted) return;
  try {
    options.on_evicted(ns, name, node, t);
  } catch (const std::exception& e) {
    log::warn("drain: eviction of " + ns + "/" + name +
              " not recorded on the timeline: " + e.what());
  }
}

}  // namespace

json Chaos::drain(const std::vector<std::string>& nodes, const DrainOptions& options) {
  check_stop();
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::steady_clock::duration>(options.timeout);
  // Ends both watches when the drain returns, or at once on abort.
  std::stop_source drain_done;
  std::stop_callback link(options_.stop, [&] { drain_done.request_stop(); });
  // The filter chain reads the pods watch's first list: page by page, only
  // the pods on these nodes kept, and only what is read of them.
  DrainedPods watched(client_, std::set<std::string>(nodes.begin(), nodes.end()),
                      drain_done.get_token());
  std::vector<DrainPod> to_evict;
  json skipped = json::array();
  for (auto& pod : watched.initial(deadline, options_.stop)) {
    std::string reason = skip_reason(pod, options_.guards, options.delete_emptydir_data);
    if (reason.empty())
      to_evict.push_back(std::move(pod));
    else
      skipped.push_back({{"pod", pod.ref()}, {"reason", reason}});
  }
  auto in_flight = journal_.mutating();
  std::vector<JournalEntry> intents;
  std::vector<EvictionQueue::Item> items;
  for (const auto& p : to_evict) {
    intents.push_back({0, "evict", "pod", p.ns, p.name, p.uid, "", "", -1, -1});
    items.push_back({p.ns, p.name, p.labels});
  }
  // Every eviction is journaled before the first is made.
  auto ids = journal_.intend(std::move(intents));

  // 1. Evict every pod as its PDBs allow. The UID precondition keeps a retry
  // from evicting a replacement under the same name.
  EvictionQueue queue(std::move(items));
  PdbFeed pdbs(client_, queue, drain_done.get_token());
  std::vector<std::exception_ptr> errors(to_evict.size());
  std::vector<char> gone(to_evict.size(), 0), accepted(to_evict.size(), 0);
  std::vector<std::string> unanswered(to_evict.size());  // the last try's error, if unanswered
  std::atomic<int> conflicts{0};
  auto evict_one = [&](size_t i) {
    const std::string &ns = to_evict[i].ns, &name = to_evict[i].name, &uid = to_evict[i].uid;
    kube::DeleteOptions del;
    del.grace_period_seconds = options.grace_seconds;
    del.precondition_uid = uid;
    unanswered[i].clear();
    try {
      client_.evict(ns, name, del);
      double t = options_.clock();
      journal_.update(ids[i], "applied", "", t);
      accepted[i] = 1;
      queue.evicted(i);
      report_evicted(options_, ns, name, to_evict[i].node, t);
      return;
    } catch (const kube::ApiError& e) {
      // 404 or a failed UID precondition (409): gone only if the pod is.
      if ((e.kind() == Kind::NotFound || e.kind() == Kind::Conflict) &&
          pod_gone(client_, ns, name, uid)) {
        journal_.update(ids[i], "skipped", "already gone");
        gone[i] = 1;
        queue.drop(i);
        return;
      }
      if (e.kind() == Kind::NotFound) {
        errors[i] = std::make_exception_ptr(std::runtime_error(
            "the eviction API answered 404 but the pod is still there: " + std::string(e.what())));
        queue.drop(i);
        return;
      }
      if (e.kind() == Kind::TooManyRequests) {
        queue.refused(i, e.retry_after_seconds());
        return;
      }
      if (e.kind() == Kind::Conflict) {  // evictions raced on the PDB status: it did not happen
        ++conflicts;
        queue.retry(i);
        return;
      }
      // An overloaded control plane times out or drops evictions (218 of
      // 3,334 at 10k pods, issue 14): tried again until the drain's deadline.
      if (e.kind() == Kind::Transport || e.kind() == Kind::Timeout ||
          e.kind() == Kind::ServerError || e.kind() == Kind::ServerTimeout) {
        unanswered[i] = e.what();
        queue.unanswered(i);
        return;
      }
      errors[i] = std::current_exception();
    } catch (...) {
      errors[i] = std::current_exception();
    }
    queue.drop(i);
  };
  std::vector<size_t> workers(std::max<size_t>(options_.concurrency, 1));
  parallel_for_each<size_t>(workers, workers.size(), [&](const size_t&) {
    while (auto i = queue.next(deadline, options_.stop)) evict_one(*i);
  });
  if (options_.stop.stop_requested()) {
    journal_.persist();
    throw AbortedError("run aborted");
  }

  // 2. Wait for every evicted pod to be gone, under the same deadline.
  std::set<std::string> waiting;
  for (size_t i = 0; i < to_evict.size(); ++i)
    if (accepted[i]) waiting.insert(to_evict[i].uid);
  std::set<std::string> still;
  std::optional<std::string> wait_error;
  try {
    still = watched.wait_gone(waiting, deadline, options_.stop);
  } catch (const std::runtime_error& e) {
    wait_error = e.what();
    still = waiting;
  }
  if (options_.stop.stop_requested()) {
    journal_.persist();
    throw AbortedError("run aborted");
  }

  int refusals = queue.refusals() + conflicts.load();
  json evicted = json::array(), failed = json::array(), not_gone = json::array();
  for (size_t i = 0; i < to_evict.size(); ++i) {
    bool there = still.count(to_evict[i].uid) > 0;
    if (errors[i]) {
      try {
        std::rethrow_exception(errors[i]);
      } catch (const std::exception& e) {
        journal_.update(ids[i], "failed", e.what());
        failed.push_back({{"pod", to_evict[i].ref()}, {"error", e.what()}});
      }
    } else if (!accepted[i] && !gone[i]) {
      std::string why =
          !unanswered[i].empty()
              ? "not evicted before the drain timeout; the last eviction was not answered: " +
                    unanswered[i]
          : refusals ? "eviction still refused by a PodDisruptionBudget at the drain timeout"
                     : "not evicted before the drain timeout";
      journal_.update(ids[i], "failed", why);
      failed.push_back({{"pod", to_evict[i].ref()}, {"error", why}});
    } else if (gone[i] || !there) {
      evicted.push_back(to_evict[i].ref());
    } else {
      std::string why = wait_error ? "evicted, not seen gone (" + *wait_error + ")"
                                   : "evicted, not gone at the drain timeout";
      journal_.update(ids[i], "applied", why);
      not_gone.push_back(to_evict[i].ref());
    }
  }
  journal_.persist();
  for (const auto& s : skipped)
    log::info("drain: skipped " + s["pod"].get<std::string>() + ": " +
              s["reason"].get<std::string>());
  for (const auto& p : not_gone)
    log::warn("drain: " + p.get<std::string>() +
              " was evicted but is not gone at the drain timeout");
  return {{"evicted", evicted},
          {"skipped", skipped},
          {"failed", failed},
          {"not_gone", not_gone},
          {"pdb_refusals", refusals}};
}

}  // namespace faultline::chaos
