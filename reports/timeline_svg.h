// The timeline chart of the HTML report, drawn here as inline SVG so the
// report needs no script, no fonts and no network: one panel per unit
// (availability, latency, ready replicas per zone, ...) on a shared time axis,
// a band of phases on top, and every fault / rollback / abort marker as a
// labelled vertical line across all panels. Internal to reports/.
#pragma once

#include <string>

#include "reports/run_record.h"

namespace faultline::reports {

// Markers are numbered in time order (1-based); the chart labels them
// "n label" and the report's marker table uses the same numbers.
std::string timeline_svg(const RunRecord& r);

// A long series is reduced to at most about `columns` * 2 points by keeping
// each pixel column's minimum and maximum: a one-sample availability dip
// survives, as it must. Gaps (NaN) are kept. Exposed for tests.
std::vector<std::pair<double, double>> downsample(
    const std::vector<std::pair<double, double>>& points, double t_min, double t_max, int columns);

}  // namespace faultline::reports
