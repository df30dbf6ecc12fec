// Stop conditions (`abort:`), checked continuously on the live timeline.
// When one is breached the runner stops injecting at once and rolls back.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "reports/run_record.h"
#include "runner/observe/observer.h"
#include "runner/slo/slo_spec.h"

namespace faultline::slo {

struct AbortBreach {
  std::string condition;  // "availability(http) below 90% over 10s"
  double t = 0;           // the breaching sample (or the end of the breaching window)
  double value = 0;
  std::string value_text;  // "71.4%"
  std::string message;     // "availability(http) was 71.4% over t=20.0s..30.0s (250 requests)"

  reports::AbortRecord record() const;
};

class AbortMonitor {
 public:
  explicit AbortMonitor(std::vector<AbortSpec> specs);

  bool empty() const { return specs_.empty(); }
  // How much history check() needs: pass observer.snapshot(now - lookback()).
  double lookback() const;

  // The first breached condition at `now`, in spec order.
  //  availability     ok/total of the request samples scheduled in
  //                   (now - window, now] < below; judged only once the probe
  //                   has samples from at or before now - window (a full window).
  //  ready_endpoints  the latest state has fewer than `below` ready.
  //  prometheus       the latest successful value is above/below the bound.
  std::optional<AbortBreach> check(const observe::TimelineSnapshot& snapshot, double now) const;

 private:
  std::vector<AbortSpec> specs_;
};

// Runs an AbortMonitor on an Observer every `period` on a thread of its own,
// calling on_breach once (on that thread) for the first breach, then stopping.
// A check that throws is a breach too ("the stop-condition watcher failed"):
// a drill whose stop conditions are no longer watched must stop, not run on
// unguarded or terminate without rolling back.
class AbortWatcher {
 public:
  // What is checked each period: the breach at `now`, if any (may throw).
  using Check = std::function<std::optional<AbortBreach>(double now)>;

  AbortWatcher(observe::Observer& observer, AbortMonitor monitor,
               std::function<void(const AbortBreach&)> on_breach,
               std::chrono::milliseconds period = std::chrono::milliseconds(250));
  // Any check against any clock (seconds since the run started).
  AbortWatcher(Check check, std::function<double()> clock,
               std::function<void(const AbortBreach&)> on_breach,
               std::chrono::milliseconds period = std::chrono::milliseconds(250));
  ~AbortWatcher();  // stop()

  void start();
  void stop();
  std::optional<AbortBreach> breach() const;

 private:
  Check check_;  // empty: nothing to watch
  std::function<double()> clock_;
  std::function<void(const AbortBreach&)> on_breach_;
  std::chrono::milliseconds period_;
  mutable std::mutex mu_;
  std::optional<AbortBreach> breach_;
  std::jthread thread_;
};

}  // namespace faultline::slo
