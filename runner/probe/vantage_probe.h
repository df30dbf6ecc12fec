// `faultline probe`: the probe a vantage pod runs (issue 13, multi-vantage
// availability). It sends requests to one URL on the http probe's fixed
// timetable (observe::RequestEngine: no coordinated omission) and writes one
// JSON line per request to stdout, stamped with this machine's wall clock,
// so a runner that follows the pod's log through the API server can place
// every sample on its own timeline (after correcting for the clock offset
// between the nodes). Not yet started by the runner: see docs/running-in-cluster.md.
#pragma once

#include <chrono>
#include <functional>
#include <ostream>
#include <stop_token>
#include <string>
#include <vector>

#include "runner/observe/request_engine.h"

namespace faultline::probe {

struct VantageOptions {
  observe::RequestTarget target;
  double rate = 0;                            // requests per second
  std::chrono::duration<double> duration{0};  // 0: until stopped
  std::string zone;                           // the vantage, echoed in every line
};

// Parses `faultline probe` flags: --url U --rate 20/s [--timeout 1s]
// [--duration 60s] [--zone Z] [--no-keepalive]. Throws InputError with one
// line naming the flag.
VantageOptions parse_vantage_args(const std::vector<std::string>& args);

// One output line: {"t":<unix seconds, scheduled>,"zone":..,"ok":..,
// "status":..,"latency_ms":..,"error":..}. The first line is a header
// {"probe":"start","t":<unix seconds now>,"url":..,"rate":..,"zone":..}.
std::string sample_line(const observe::RequestSample& s, double t0_unix, const std::string& zone);

// Runs until `duration` has passed or `stop` is requested; writes the lines
// to `out` (flushed per line: a log follower sees each sample at once).
// Returns 0, or 4 when the engine failed.
int run_vantage(const VantageOptions& options, std::ostream& out, std::stop_token stop);

}  // namespace faultline::probe
