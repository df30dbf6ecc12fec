// SLOs judged on a timeline snapshot: pure functions, no clock, no I/O.
//
// Every window is closed: a sample exactly at `from` or `to` counts. A window
// without samples fails with "no samples" (never a silent pass).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "reports/run_record.h"
#include "runner/observe/timeline.h"
#include "runner/slo/slo_spec.h"

namespace faultline::slo {

struct EvalWindow {
  double from = 0;  // start of the judged span (fault start; warm-up start in preflight)
  double to = 0;    // end (end of recovery)
  std::optional<double> fault_start;       // replacement is timed from here
  std::vector<std::string> faulted_zones;  // excluded from per-zone checks and skew

  // The verify window of a run: [fault start, end], faulted zones as declared.
  // Without a fault start, [0, end].
  static EvalWindow verify(const observe::TimelineSnapshot& snapshot, double end);
  // A warm-up window: no fault, no faulted zone.
  static EvalWindow steady(double from, double to);
};

// Semantics, per kind:
//  availability     ok/total of the request samples scheduled in the window
//                   >= min; longest outage (first failing sample of a run of
//                   failures to the next success, or to the window end) <= max.
//  latency          nearest-rank percentiles over answered requests and
//                   timeouts (a refused connection has no latency to speak of).
//  ready_endpoints  the state at `from` and every change until `to`: total
//                   never below min; each zone not faulted never below per_zone_min.
//  replacement      from fault start, the start of the final stretch in which
//                   Ready pods off faulted zones >= desired and no pod is left on
//                   a faulted zone; must begin within `within`; at `to`, max - min
//                   Ready pods across non-faulted zones <= max_skew.
//  pdb              during voluntary disruptions, Ready pods never below the PDB's
//                   desiredHealthy; fails when no voluntary disruption happened.
//  prometheus       every successful query in the window (at: every) or the last
//                   one (at: end) within max/min.
reports::SloRecord evaluate(const SloSpec& spec, const observe::TimelineSnapshot& snapshot,
                            const EvalWindow& window);

// rto, rpo, restore_complete: judged on a restore drill's record
// (runner/dr Drill::record: rto_s, rpo_s, restores[{name, phase, errors,
// warnings, warning_messages, reason}]). A null record (no drill) or a
// figure never measured (no disaster, no restore that finished) fails.
reports::SloRecord evaluate_dr(const SloSpec& spec, const nlohmann::json& record);

std::vector<reports::SloRecord> evaluate_all(const std::vector<SloSpec>& specs,
                                             const observe::TimelineSnapshot& snapshot,
                                             const EvalWindow& window);

// The steady-state hypothesis: every probe-based SLO (SloSpec::steady_state)
// holds over the warm-up window [from, to] before any fault.
struct SteadyState {
  bool holds = true;
  std::vector<reports::SloRecord> results;
  // "availability(http) 97.5% (>= 99.5%); ..." naming what failed.
  std::string failures() const;
};
SteadyState steady_state(const std::vector<SloSpec>& specs,
                         const observe::TimelineSnapshot& snapshot, double from, double to);

// Formatting shared with the abort monitor. Ratios are rounded down (99.96%
// shows as 99.96%, 99.4999% as 99.499%, never up into a passing figure).
std::string percent_text(double ratio);
std::string seconds_text(double seconds);

}  // namespace faultline::slo
