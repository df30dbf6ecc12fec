#include "runner/chaos/rollback.h"

#include <thread>

#include "runner/chaos/node_faults.h"
#include "runner/common/log.h"
#include "runner/common/parallel.h"

namespace faultline::chaos {

namespace res = kube::resources;
using json = nlohmann::json;

namespace {

bool needs_undo(const JournalEntry& e) { return e.state == "intended" || e.state == "applied" || e.state == "failed"; }

// One undo attempt. Returns the new state.
std::string undo(kube::Client& client, const std::string& run_id, const JournalEntry& e) {
  if (e.action == "cordon") {
    uncordon_node(client, e.name, run_id);
    return "reverted";
  }
  if (e.action == "taint") {
    untaint_node(client, e.name, run_id);
    return "reverted";
  }
  // Evicted or deleted pods come back through their controllers; there is
  // nothing to put back, and the SLOs judge whether they did.
  return "not_reversible";
}

}  // namespace

RollbackOutcome rollback_entries(kube::Client& client, const std::string& run_id,
                                 std::vector<JournalEntry>& entries,
                                 const std::function<double()>& clock, std::chrono::seconds deadline,
                                 size_t concurrency) {
  auto until = std::chrono::steady_clock::now() + deadline;
  std::vector<size_t> pending;
  for (size_t i = entries.size(); i-- > 0;)
    if (needs_undo(entries[i])) pending.push_back(i);

  std::vector<std::string> last_error(entries.size());
  auto backoff = std::chrono::milliseconds(200);
  while (!pending.empty()) {
    auto errors = parallel_for_each<size_t>(pending, concurrency, [&](const size_t& i) {
      auto& e = entries[i];
      e.state = undo(client, run_id, e);
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
    if (pending.empty() || std::chrono::steady_clock::now() + backoff > until) break;
    log::warn("rollback: " + std::to_string(pending.size()) + " undo(s) failed, retrying in " +
              std::to_string(backoff.count()) + "ms: " + last_error[pending.front()]);
    std::this_thread::sleep_for(backoff);
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

RecoveryReport recover_all(kube::Client& client, const std::string& state_namespace,
                           const std::string& skip_run, std::chrono::seconds deadline,
                           size_t concurrency) {
  RecoveryReport report;
  auto zero = [] { return 0.0; };
  for (auto& stored : Journal::list(client, state_namespace)) {
    if (stored.run_id == skip_run) continue;
    ++report.journals_found;
    log::info("recover: rolling back journal " + stored.name + " of run " + stored.run_id);
    auto outcome = rollback_entries(client, stored.run_id, stored.entries, zero, deadline, concurrency);
    if (outcome.complete) {
      Journal::remove(client, state_namespace, stored.name);
      ++report.journals_cleared;
    } else {
      Journal::save(client, state_namespace, stored);
      for (auto& r : outcome.remaining) report.remaining.push_back(r);
    }
  }
  // Nodes are their own journal too: a node annotated by a run that is not
  // the live one is put back even if its journal is gone.
  json nodes = client.list(res::kNodes, "")["items"];
  for (const auto& n : nodes) {
    const auto& ann = n["metadata"].value("annotations", json::object());
    std::string name = n["metadata"].value("name", "");
    for (const char* key : {kCordonedAnnotation, kTaintedAnnotation}) {
      std::string run = ann.value(key, "");
      if (run.empty() || run == skip_run) continue;
      try {
        auto change = std::string(key) == kCordonedAnnotation ? uncordon_node(client, name, run)
                                                               : untaint_node(client, name, run);
        if (change == NodeChange::Applied) ++report.nodes_swept;
      } catch (const std::exception& e) {
        report.remaining.push_back("node/" + name + ": " + key + "=" + run + " not undone: " + e.what());
      }
    }
  }
  return report;
}

}  // namespace faultline::chaos
