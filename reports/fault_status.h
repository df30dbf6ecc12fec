// The states a fault can end a run in: the one list the runner writes, the
// reader accepts, the tallies count and reports/schema/report.schema.json
// enumerates (a unit test holds the schema to this list, and round-trips a
// record with a fault in every state).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::reports {

enum class FaultStatus {
  Applied,         // made, and still in place at the end (no rollback ran)
  RolledBack,      // made, then undone by rollback
  Failed,          // the fault itself failed to apply
  NotReversible,   // made, nothing to undo (an evicted or deleted pod)
  RollbackFailed,  // made, and rollback could not undo it
  Skipped,         // not made: already so (before the run, or by this run), or the object was gone
  NotApplied,      // intended, never made (blocked by a PDB, aborted, timed out)
};

struct FaultStatusInfo {
  FaultStatus status;
  std::string_view name;  // as written in report.json
  bool still_applied;     // counts as "still applied" in the headline
  bool made;              // the mutation happened (its time is real)
};

inline constexpr std::array<FaultStatusInfo, 7> kFaultStatuses{{
    {FaultStatus::Applied, "applied", true, true},
    {FaultStatus::RolledBack, "rolled_back", false, true},
    {FaultStatus::Failed, "failed", false, false},
    {FaultStatus::NotReversible, "not_reversible", false, true},
    {FaultStatus::RollbackFailed, "rollback_failed", true, true},
    {FaultStatus::Skipped, "skipped", false, false},
    {FaultStatus::NotApplied, "not_applied", false, false},
}};

std::string_view to_string(FaultStatus status);
std::optional<FaultStatus> parse_fault_status(std::string_view name);
std::vector<std::string> fault_status_names();
// Whether a fault in this state was made (an unknown name: assume it was).
bool fault_made(std::string_view name);

}  // namespace faultline::reports
