// Prometheus metrics of a run, for scheduled drills: served on /metrics while
// the runner lives (--metrics-port) and pushed to a Pushgateway at the end
// (--pushgateway), grouped by experiment and cluster. See reports/README.md
// for the metric list and the alert rules they are built for.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "reports/run_record.h"

namespace prometheus {
class Exposer;
class Gauge;
template <typename T>
class Family;
class Registry;
}  // namespace prometheus

namespace faultline::reports {

// "http://host:port" of a Pushgateway. Throws faultline::InputError when the
// URL is not http(s)://host[:port][/] (call it while parsing flags, before the
// run touches anything).
struct GatewayAddress {
  std::string host;  // "http://127.0.0.1" (scheme included, as prometheus-cpp wants)
  std::string port;  // "9091"; the scheme's default when the URL has none
};
GatewayAddress parse_gateway_url(const std::string& url);

class RunMetrics {
 public:
  RunMetrics();
  ~RunMetrics();
  RunMetrics(const RunMetrics&) = delete;
  RunMetrics& operator=(const RunMetrics&) = delete;

  // A run of `experiment` on `cluster` has started:
  // faultline_run_in_progress = 1 until update().
  void start(const std::string& experiment, const std::string& cluster);

  // Sets every gauge from a finished run. Series of the previous update that
  // this record no longer has (an SLO that was renamed) are removed, except
  // faultline_last_success_timestamp_seconds, which only a passing run sets.
  // Throws faultline::InputError when the record's ended_at is not RFC 3339.
  void update(const RunRecord& record);

  // Serves /metrics on bind_address:port ("0.0.0.0" in the cluster, by
  // design; "127.0.0.1" locally and in tests; port 0 picks a free port).
  // Returns the port bound. Throws OutputError when it cannot bind.
  int serve(int port, const std::string& bind_address = "0.0.0.0");

  // Pushes to the Pushgateway at gateway_url (POST: only the metric names in
  // this push are replaced within the group job/experiment/cluster, so a
  // failed run leaves the last success timestamp in place). Gives up after
  // timeout_seconds. Throws OutputError (with the URL and the HTTP status or
  // curl error) on failure, InputError on a malformed URL or job name.
  void push(const std::string& gateway_url, const std::string& job = "faultline",
            double timeout_seconds = 30) const;

  // The exposition text of the registry, as /metrics would serve it.
  std::string text() const;

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

 private:
  using GaugeFamily = prometheus::Family<prometheus::Gauge>;
  struct Added {
    GaugeFamily* family;
    prometheus::Gauge* gauge;
  };
  prometheus::Gauge& set(GaugeFamily& family, std::map<std::string, std::string> labels,
                         double value);

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  mutable std::mutex mutex_;
  std::vector<Added> added_;          // series set by the last update, removed by the next
  std::string experiment_, cluster_;  // grouping key of the last start/update

  GaugeFamily* run_in_progress_;
  GaugeFamily* run_result_;
  GaugeFamily* slo_passed_;
  GaugeFamily* slo_value_;
  GaugeFamily* availability_ratio_;
  GaugeFamily* replacement_seconds_;
  GaugeFamily* run_duration_seconds_;
  GaugeFamily* last_run_timestamp_;
  GaugeFamily* last_success_timestamp_;
  GaugeFamily* rollback_complete_;
  GaugeFamily* faults_;  // faultline_run_faults{status}
};

}  // namespace faultline::reports
