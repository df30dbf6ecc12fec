#include "runner/experiment/fault_records.h"

#include <algorithm>
#include <string>

#include "reports/fault_status.h"

namespace faultline::experiment {
namespace {

// An entry never applied (t_applied < 0: an eviction the PDB blocked until
// the abort, a timed-out drain) was never made, whatever rollback later
// wrote on it ("not_reversible": nothing to undo).
reports::FaultStatus fault_status(const chaos::JournalEntry& e) {
  using reports::FaultStatus;
  const bool made = e.t_applied >= 0;
  if (e.state == "reverted") return FaultStatus::RolledBack;
  if (e.state == "skipped") return FaultStatus::Skipped;
  if (e.state == "not_reversible")
    return made ? FaultStatus::NotReversible : FaultStatus::NotApplied;
  if (e.state == "failed") return FaultStatus::RollbackFailed;
  if (e.state == "intended" && !made && e.kind == "pod") return FaultStatus::NotApplied;
  return FaultStatus::Applied;
}

}  // namespace

std::vector<reports::FaultRecord> fault_records(const std::vector<chaos::JournalEntry>& entries) {
  std::vector<reports::FaultRecord> out;
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    reports::FaultRecord f;
    f.id = e.id;
    f.action = e.action + "_" + e.kind;
    f.target = e.kind + "/" + (e.ns.empty() ? "" : e.ns + "/") + e.name;
    // A restore drill's object in another cluster: say which, or a restored
    // copy reads like the source ("namespace/shop").
    if (!e.cluster.empty()) f.target += " in cluster '" + e.cluster + "'";
    f.applied = std::max(0.0, e.t_applied);
    if (e.t_reverted >= 0) f.rolled_back = e.t_reverted;
    f.status = std::string(reports::to_string(fault_status(e)));
    if (!e.note.empty()) f.error = e.note;
    // "Already cordoned" because this run cordoned it earlier (cordon_zone,
    // then drain_zone), not because it was so before the run.
    if (e.state == "skipped")
      for (size_t j = 0; j < i; ++j)
        if (entries[j].action == e.action && entries[j].kind == e.kind &&
            entries[j].name == e.name && entries[j].t_applied >= 0) {
          f.error = "already " + e.action + "ed by this run (fault " +
                    std::to_string(entries[j].id) + ")";
          break;
        }
    f.detail = {{"journal_state", e.state}};
    out.push_back(f);
  }
  return out;
}

}  // namespace faultline::experiment
