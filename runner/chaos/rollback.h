// Undo from the journal: used at the end of every run, by `faultline recover`
// and by the next run that finds a stale journal. Idempotent: every undo
// checks the object first, so running it twice, or for a mutation that never
// happened, is harmless.
#pragma once

#include <chrono>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "runner/chaos/journal.h"
#include "runner/kube/client.h"

namespace faultline::chaos {

struct RollbackOutcome {
  bool complete = true;
  std::vector<std::string> remaining;  // "node/zone-a-1: cordon not undone: <error>"
};

// Undoes a journal's restore-drill entries (is_drill_entry), newest first,
// one after another (a restore still running must be gone before its
// namespace is deleted), each in the cluster it names; updates their states
// in place and returns what is left. `meta` is the journal's (started_at:
// nothing older than the run is the drill's to delete). runner/dr provides
// it (dr::drill_undo): chaos does not know Velero.
using DrillUndo =
    std::function<std::vector<std::string>(std::vector<JournalEntry>& entries, const json& meta,
                                           std::chrono::seconds deadline, std::stop_token stop)>;

// Undoes entries (newest first), updating their states in place; each
// request is capped by the time left, and after_round runs after every round
// (to persist the journal). A restore drill's entries are left as they are
// (their owner undoes them: DrillUndo). Failed
// undos are retried with backoff until `deadline` has passed or `stop` is
// requested (`faultline recover` on SIGTERM: what is left stays journaled).
// `listed_nodes`, a node list (project_node_facts) the caller made just now,
// serves the first round instead of a list of its own.
RollbackOutcome rollback_entries(kube::Client& client, const std::string& run_id,
                                 std::vector<JournalEntry>& entries,
                                 const std::function<double()>& clock,
                                 std::chrono::seconds deadline, size_t concurrency,
                                 std::stop_token stop = {},
                                 const std::function<void()>& after_round = {},
                                 const json* listed_nodes = nullptr);

struct RecoveryReport {
  int journals_found = 0;
  int journals_cleared = 0;
  int nodes_swept = 0;  // annotated nodes restored without a journal entry
  std::vector<std::string> remaining;
  bool complete() const { return remaining.empty(); }
};

// Rolls back every journal in state_namespace except skip_run's, then sweeps
// nodes still annotated by a run other than skip_run. Call it only while
// holding the drill lock. Without `drill_undo`, a journal with restore-drill
// entries left to undo stays (reported as remaining).
RecoveryReport recover_all(kube::Client& client, const std::string& state_namespace,
                           const std::string& skip_run, std::chrono::seconds deadline,
                           size_t concurrency, std::stop_token stop = {},
                           const DrillUndo& drill_undo = {});

// What one run left, and nothing else: its journals in state_namespace and
// the nodes annotated with its run id. Used when we took the lock over from
// that run's holder: other runs' marks are not the stale holder's to give up.
RecoveryReport recover_run(kube::Client& client, const std::string& state_namespace,
                           const std::string& run_id, std::chrono::seconds deadline,
                           size_t concurrency, const DrillUndo& drill_undo = {});

// Every run with a journal in state_namespace but skip_run: its journal and
// the nodes annotated with its id. What the next `run` undoes before it
// starts; a node annotated by a run with no journal is left to `faultline
// recover` (an operator's decision).
RecoveryReport recover_journaled(kube::Client& client, const std::string& state_namespace,
                                 const std::string& skip_run, std::chrono::seconds deadline,
                                 size_t concurrency, const DrillUndo& drill_undo = {});

}  // namespace faultline::chaos
