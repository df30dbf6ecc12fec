#include "runner/chaos/rollback.h"

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "runner/chaos/cluster_view.h"
#include "runner/chaos/node_faults.h"
#include "runner/common/log.h"
#include "runner/common/parallel.h"

namespace faultline::chaos {

namespace res = kube::resources;
using json = nlohmann::json;

namespace {

bool pending_undo(const JournalEntry& e) {
  return e.state == "intended" || e.state == "applied" || e.state == "failed";
}
bool needs_undo(const JournalEntry& e) { return pending_undo(e) && !is_drill_entry(e); }

bool node_entry(const JournalEntry& e) { return e.action == "cordon" || e.action == "taint"; }

// From this many node undos on, a round lists the nodes once and patches each
// from the list (1 request per node, not a GET and a PATCH): 1,000 nodes are
// 2 pages. Below it a list of a big cluster costs more than the GETs.
constexpr size_t kListNodesFrom = 16;

using NodeIndex = std::map<std::string, json>;

// A node list the caller made, by name.
NodeIndex index_nodes(const json& nodes) {
  NodeIndex out;
  for (const auto& n : nodes) out[n["metadata"].value("name", "")] = n;
  return out;
}

// The nodes as one list returns them now, by name; empty if the list failed
// (each undo then reads its node itself: slower, never wrong).
NodeIndex list_nodes(kube::Client& client) {
  NodeIndex out;
  try {
    kube::ListOptions projected;
    projected.project = project_node_facts;
    for (auto& n : items(client.list(res::kNodes, "", projected))) {
      std::string name = n["metadata"].value("name", "");  // before n is moved from
      out[name] = std::move(n);
    }
  } catch (const std::exception& e) {
    log::warn(std::string("rollback: listing nodes failed, reading each node instead: ") +
              e.what());
    out.clear();
  }
  return out;
}

// One undo attempt. Returns the new state.
std::string undo(kube::Client& client, const std::string& run_id, const JournalEntry& e,
                 const NodeIndex& listed) {
  auto it = listed.find(e.name);
  const json* node = it == listed.end() ? nullptr : &it->second;
  if (e.action == "cordon") {
    uncordon_node(client, e.name, run_id, node);
    return "reverted";
  }
  if (e.action == "taint") {
    untaint_node(client, e.name, run_id, node);
    return "reverted";
  }
  if (e.action == "create" && e.kind == "pod") {
    // A pod the run made (a vantage probe pod, issue 13): deleted at once,
    // without grace, so it is gone from the API even when its node is dead.
    kube::DeleteOptions now;
    now.grace_period_seconds = 0;
    if (!e.uid.empty()) now.precondition_uid = e.uid;
    try {
      client.remove(res::kPods, e.ns, e.name, now);
    } catch (const kube::ApiError& err) {
      if (err.kind() != kube::ApiError::Kind::NotFound) throw;
    }
    return "reverted";
  }
  // Evicted or deleted pods come back through their controllers; there is
  // nothing to put back, and the SLOs judge whether they did.
  return "not_reversible";
}

}  // namespace

RollbackOutcome rollback_entries(kube::Client& client, const std::string& run_id,
                                 std::vector<JournalEntry>& entries,
                                 const std::function<double()>& clock,
                                 std::chrono::seconds deadline, size_t concurrency,
                                 std::stop_token stop, const std::function<void()>& after_round,
                                 const json* listed_nodes) {
  auto until = std::chrono::steady_clock::now() + deadline;
  std::vector<size_t> pending;
  for (size_t i = entries.size(); i-- > 0;)
    if (needs_undo(entries[i])) pending.push_back(i);

  std::vector<std::string> last_error(entries.size());
  auto backoff = std::chrono::milliseconds(200);
  while (!pending.empty()) {
    // Every request ends by the deadline: one undo's retries cannot carry
    // the rollback past the Job's grace period (and into its SIGKILL).
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds(0)) break;
    const auto& config = client.config();
    kube::Client bounded = client.urgent(std::min(config.request_timeout, left),
                                         left >= std::chrono::seconds(30) ? config.max_retries : 0);
    size_t node_undos = 0;
    for (size_t i : pending) node_undos += node_entry(entries[i]);
    // A later round lists afresh: the nodes the first one patched have moved on.
    const NodeIndex listed = listed_nodes                   ? index_nodes(*listed_nodes)
                             : node_undos >= kListNodesFrom ? list_nodes(bounded)
                                                            : NodeIndex{};
    listed_nodes = nullptr;
    auto errors = parallel_for_each<size_t>(pending, concurrency, [&](const size_t& i) {
      auto& e = entries[i];
      e.state = undo(bounded, run_id, e, listed);
      e.t_reverted = clock();
    });
    std::vector<size_t> failed;
    for (size_t k = 0; k < pending.size(); ++k) {
      if (!errors[k]) continue;
      try {
        std::rethrow_exception(errors[k]);
      } catch (const std::exception& ex) {
        last_error[pending[k]] = ex.what();
      }
      failed.push_back(pending[k]);
    }
    pending = std::move(failed);
    if (after_round) after_round();  // the journal reflects every round
    if (pending.empty() || std::chrono::steady_clock::now() + backoff > until ||
        stop.stop_requested())
      break;
    log::warn("rollback: " + std::to_string(pending.size()) + " undo(s) failed, retrying in " +
              std::to_string(backoff.count()) + "ms: " + last_error[pending.front()]);
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lk(m);
    cv.wait_for(lk, stop, backoff, [] { return false; });
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
  RollbackOutcome outcome;
  for (size_t i : pending) {
    entries[i].state = "failed";
    entries[i].note = "rollback failed: " + last_error[i];
    outcome.remaining.push_back(entries[i].kind + "/" + entries[i].name + ": " + entries[i].action +
                                " not undone: " + last_error[i]);
  }
  outcome.complete = outcome.remaining.empty();
  return outcome;
}

namespace {
// Which runs a recovery is for.
using RunFilter = std::function<bool(const std::string& run)>;

RecoveryReport recover(kube::Client& client, const std::string& state_namespace,
                       const RunFilter& wanted, std::chrono::seconds deadline, size_t concurrency,
                       std::stop_token stop, const DrillUndo& drill_undo) {
  RecoveryReport report;
  auto zero = [] { return 0.0; };
  for (auto& stored : Journal::list(client, state_namespace)) {
    if (!wanted(stored.run_id)) continue;
    if (stop.stop_requested()) {
      report.remaining.push_back("journal " + stored.name + ": not rolled back (stopped)");
      continue;
    }
    ++report.journals_found;
    log::info("recover: rolling back journal " + stored.name + " of run " + stored.run_id);
    // A restore drill's entries first (what it restored may sit on the
    // nodes the run also faulted), then the nodes.
    std::vector<std::string> drill_left;
    const bool drill_pending =
        std::any_of(stored.entries.begin(), stored.entries.end(),
                    [](const JournalEntry& e) { return is_drill_entry(e) && pending_undo(e); });
    if (drill_pending && drill_undo) {
      drill_left = drill_undo(stored.entries, stored.meta, deadline, stop);
    } else if (drill_pending) {
      drill_left.push_back("journal " + stored.name +
                           ": a restore drill's entries are left (no cluster access to undo them)");
    }
    auto outcome =
        rollback_entries(client, stored.run_id, stored.entries, zero, deadline, concurrency, stop);
    if (!drill_left.empty()) {
      outcome.complete = false;
      outcome.remaining.insert(outcome.remaining.begin(), drill_left.begin(), drill_left.end());
    }
    if (outcome.complete) {
      Journal::remove(client, state_namespace, stored);
      ++report.journals_cleared;
    } else {
      Journal::save(client, state_namespace, stored);
      for (auto& r : outcome.remaining) report.remaining.push_back(r);
    }
  }
  if (stop.stop_requested()) {
    report.remaining.push_back("annotated nodes: not swept (stopped)");
    return report;
  }
  // Nodes are their own journal too: a node annotated by a wanted run is put
  // back even if its journal is gone.
  kube::ListOptions projected;
  projected.project = project_node_facts;
  json nodes = client.list(res::kNodes, "", projected)["items"];
  for (const auto& n : nodes) {
    const auto& ann = n["metadata"].value("annotations", json::object());
    std::string name = n["metadata"].value("name", "");
    for (const char* key : {kCordonedAnnotation, kTaintedAnnotation}) {
      std::string run = ann.value(key, "");
      if (!wanted(run)) continue;
      try {
        auto change = std::string(key) == kCordonedAnnotation ? uncordon_node(client, name, run, &n)
                                                              : untaint_node(client, name, run, &n);
        if (change == NodeChange::Applied) ++report.nodes_swept;
      } catch (const std::exception& e) {
        report.remaining.push_back("node/" + name + ": " + key + "=" + run +
                                   " not undone: " + e.what());
      }
    }
  }
  return report;
}
}  // namespace

RecoveryReport recover_all(kube::Client& client, const std::string& state_namespace,
                           const std::string& skip_run, std::chrono::seconds deadline,
                           size_t concurrency, std::stop_token stop, const DrillUndo& drill_undo) {
  RunFilter wanted = [&](const std::string& run) { return !run.empty() && run != skip_run; };
  return recover(client, state_namespace, wanted, deadline, concurrency, stop, drill_undo);
}

RecoveryReport recover_run(kube::Client& client, const std::string& state_namespace,
                           const std::string& run_id, std::chrono::seconds deadline,
                           size_t concurrency, const DrillUndo& drill_undo) {
  RunFilter wanted = [&](const std::string& run) { return !run.empty() && run == run_id; };
  return recover(client, state_namespace, wanted, deadline, concurrency, {}, drill_undo);
}

RecoveryReport recover_journaled(kube::Client& client, const std::string& state_namespace,
                                 const std::string& skip_run, std::chrono::seconds deadline,
                                 size_t concurrency, const DrillUndo& drill_undo) {
  std::set<std::string> runs;
  for (const auto& stored : Journal::list(client, state_namespace))
    if (!stored.run_id.empty() && stored.run_id != skip_run) runs.insert(stored.run_id);
  if (runs.empty()) return {};
  RunFilter wanted = [&](const std::string& run) { return runs.count(run) > 0; };
  return recover(client, state_namespace, wanted, deadline, concurrency, {}, drill_undo);
}

}  // namespace faultline::chaos
