// The journal's entries as the report's faults: one place that decides what
// a journal state means for the report (reports/fault_status.h), so an
// eviction the PDB blocked is "not_applied", not an eviction at t=0, and a
// node this run cordoned twice is not "already cordoned before the run".
#pragma once

#include <vector>

#include "reports/run_record.h"
#include "runner/chaos/journal.h"

namespace faultline::experiment {

std::vector<reports::FaultRecord> fault_records(const std::vector<chaos::JournalEntry>& entries);

}  // namespace faultline::experiment
