// What a run came to, in words every renderer shares: the headline, one
// sentence of why, the fault tally and each SLO's "measured X, bound Y".
// Internal to reports/.
#pragma once

#include <string>

#include "reports/run_record.h"

namespace faultline::reports {

// "PASSED", "FAILED", "ABORTED", "ERROR", "ROLLBACK INCOMPLETE".
std::string verdict_title(const RunRecord& r);

// One plain-text sentence: why the run got its verdict.
std::string verdict_sentence(const RunRecord& r);

struct FaultTally {
  int total = 0;
  int rolled_back = 0;     // undone by rollback
  int still_applied = 0;   // applied and not undone (rollback_failed, or applied at the end)
  int failed = 0;          // the fault itself failed to apply
  int not_reversible = 0;  // e.g. a deleted pod: nothing to undo
  int not_made = 0;        // skipped (already so, or gone) or intended and never made
};
FaultTally tally_faults(const RunRecord& r);
// "14 faults: 12 rolled back, 2 not reversible"
std::string fault_summary(const RunRecord& r);

// "measured 97.1%, bound >= 99.5%" ("measured nothing" when there was no sample).
std::string slo_measure_text(const SloRecord& s);

// An SLO without a measurement in a run that stopped early was never
// evaluated: reports show it as skipped, not as failed.
bool slo_evaluated(const RunRecord& r, const SloRecord& s);

int failed_slo_count(const RunRecord& r);

}  // namespace faultline::reports
