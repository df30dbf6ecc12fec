// The timeline as plot series for the report (reports::Series).
#pragma once

#include <vector>

#include "reports/run_record.h"
#include "runner/observe/timeline.h"

namespace faultline::observe {

// Series names (a probe label only where there is more than one probe of a
// kind; prometheus series always carry it):
//   availability, availability{probe=P}       ratio, per second of scheduled time
//   latency_p95_ms, latency_p95_ms{probe=P}   ms, per second
//   availability{probe=P,vantage=Z}, latency_p95_ms{probe=P,vantage=Z}
//                                             a probe with from: (vantage.h), per zone
//   ready_endpoints, ready_endpoints{zone=Z}  count, at each change
//   ready_pods, ready_pods{zone=Z}, desired_pods
//   prometheus{probe=P}                       value of each successful query
// State series (counts) have a point at each change plus one at the end
// (snapshot.taken), so they draw as steps.
std::vector<reports::Series> to_series(const TimelineSnapshot& snapshot);

// Nearest-rank percentile (p in [0, 100]) of unsorted values; values is
// reordered. Empty: 0.
double percentile(std::vector<double>& values, double p);

}  // namespace faultline::observe
