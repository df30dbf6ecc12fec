// PromQL instant queries against the Prometheus HTTP API
// (GET /api/v1/query?query=...), on an interval.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "runner/observe/probe_spec.h"
#include "runner/observe/timeline.h"

namespace faultline::observe {

// One query. A result that is not exactly one number (error status, empty
// vector, several series, not JSON) is a sample with ok = false and the
// reason; an empty vector says so, since `rate()` of a series that does not
// exist yet is empty rather than 0.
ValueSample prometheus_query(const PrometheusProbeSpec& spec, Clock::time_point t0);

// Parses a /api/v1/query response body (exposed for tests).
ValueSample parse_query_response(int http_status, const std::string& body);

class PrometheusPoller {
 public:
  using Sink = std::function<void(ValueSample)>;
  PrometheusPoller(PrometheusProbeSpec spec, Clock::time_point t0, Sink sink);
  ~PrometheusPoller();
  void start();  // first query now, then every `every` (missed slots are skipped)
  void stop();

 private:
  PrometheusProbeSpec spec_;
  Clock::time_point t0_;
  Sink sink_;
  std::jthread thread_;
};

}  // namespace faultline::observe
