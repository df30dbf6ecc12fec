// Realistic run records for the report tests: the demo app (6 checkout
// replicas over zone-a/b/c) losing zone-a, observed for 120 s, with every
// outcome a run can have, and one record full of hostile strings.
#pragma once

#include <ostream>
#include <string>

#include "reports/run_record.h"

namespace faultline::reports::testing {

enum class Outcome { Passed, Failed, Aborted, Error, RollbackIncomplete };

// For parameterised test names: "Passed", "Failed", ...
std::string outcome_name(Outcome outcome);
inline void PrintTo(Outcome outcome, std::ostream* os) { *os << outcome_name(outcome); }

// The zone-outage drill: cordon and drain zone-a at t=20, pods re-placed on
// zone-b/c by t=61.3, rollback at t=112. Series sampled every second for
// 120 s: availability, latency p95, ready replicas per zone. `day` shifts
// started_at by whole days (2025-03-04 + day), so two runs have different
// timestamps.
RunRecord zone_outage_run(Outcome outcome = Outcome::Passed, int day = 0);

// A passing run whose names, messages, events and log lines carry markup,
// quotes, control characters and invalid UTF-8.
RunRecord hostile_run();

// A region failover (the shape of a real run of
// experiments/region-failover.yaml on the two-region fixture): a backup, the
// disaster, a restore in cluster dr-region with Velero's usual warning on a
// fresh namespace, and a second restore whose data check failed.
RunRecord restore_drill_run();

// What hostile_run() puts in its experiment name and a pod name.
inline constexpr const char* kHostileExperiment = "zone<script>alert('x')</script>-outage";
inline constexpr const char* kHostilePod = "pod/shop/\"><img src=x onerror=alert(1)>";

}  // namespace faultline::reports::testing
