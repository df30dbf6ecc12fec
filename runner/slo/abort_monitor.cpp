#include "runner/slo/abort_monitor.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>

#include "runner/common/log.h"
#include "runner/slo/evaluate.h"

namespace faultline::slo {
namespace {

// History beyond the longest window, so "has the probe covered a full
// window yet" can be answered for probes slower than 1/s.
constexpr double kLookbackMargin = 5;

std::string t_text(double t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "t=%.1fs", t);
  return buf;
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::optional<AbortBreach> check_availability(const AbortSpec& a,
                                              const observe::TimelineSnapshot& snap, double now) {
  auto it = snap.requests.find(a.probe);
  if (it == snap.requests.end() || it->second.empty()) return std::nullopt;
  const auto& samples = it->second;
  double from = now - a.window;
  if (samples.front().t > from) return std::nullopt;  // not a full window yet
  int ok = 0, total = 0;
  for (const auto& s : samples) {
    if (s.t <= from || s.t > now) continue;
    ++total;
    ok += s.ok ? 1 : 0;
  }
  if (total == 0) return std::nullopt;
  double ratio = double(ok) / total;
  if (ratio >= a.below_ratio) return std::nullopt;
  AbortBreach b;
  b.condition = a.condition();
  b.t = now;
  b.value = ratio;
  b.value_text = percent_text(ratio);
  b.message = "availability(" + a.probe + ") was " + b.value_text + " over " + t_text(from) + ".." +
              t_text(now) + " (" + std::to_string(ok) + " of " + std::to_string(total) +
              " requests succeeded)";
  return b;
}

std::optional<AbortBreach> check_endpoints(const AbortSpec& a,
                                           const observe::TimelineSnapshot& snap, double now) {
  auto it = snap.endpoints.find(a.probe);
  if (it == snap.endpoints.end()) return std::nullopt;
  const observe::EndpointsSample* latest = nullptr;
  for (const auto& s : it->second)
    if (s.t <= now) latest = &s;
  if (!latest || latest->ready_total >= a.below_count) return std::nullopt;
  AbortBreach b;
  b.condition = a.condition();
  b.t = latest->t;
  b.value = latest->ready_total;
  b.value_text = std::to_string(latest->ready_total) + " ready";
  b.message = "ready endpoints dropped to " + std::to_string(latest->ready_total) + " at " +
              t_text(latest->t);
  return b;
}

std::optional<AbortBreach> check_prometheus(const AbortSpec& a,
                                            const observe::TimelineSnapshot& snap, double now) {
  auto it = snap.values.find(a.probe);
  if (it == snap.values.end()) return std::nullopt;
  const observe::ValueSample* latest = nullptr;
  for (const auto& s : it->second)
    if (s.ok && s.t <= now) latest = &s;
  if (!latest) return std::nullopt;
  bool over = a.above && latest->value > *a.above;
  bool under = a.below && latest->value < *a.below;
  if (!over && !under) return std::nullopt;
  AbortBreach b;
  b.condition = a.condition();
  b.t = latest->t;
  b.value = latest->value;
  b.value_text = number_text(latest->value);
  b.message = "prometheus(" + a.probe + ") returned " + b.value_text + " at " + t_text(latest->t);
  return b;
}

}  // namespace

reports::AbortRecord AbortBreach::record() const {
  reports::AbortRecord r;
  r.condition = condition;
  r.t = t;
  r.value = value_text;
  r.message = message;
  return r;
}

AbortMonitor::AbortMonitor(std::vector<AbortSpec> specs) : specs_(std::move(specs)) {}

double AbortMonitor::lookback() const {
  double longest = 0;
  for (const auto& a : specs_) longest = std::max(longest, a.window);
  return longest + kLookbackMargin;
}

std::optional<AbortBreach> AbortMonitor::check(const observe::TimelineSnapshot& snap,
                                               double now) const {
  for (const auto& a : specs_) {
    std::optional<AbortBreach> b;
    switch (a.kind) {
      case AbortKind::Availability:
        b = check_availability(a, snap, now);
        break;
      case AbortKind::ReadyEndpoints:
        b = check_endpoints(a, snap, now);
        break;
      case AbortKind::Prometheus:
        b = check_prometheus(a, snap, now);
        break;
    }
    if (b) return b;
  }
  return std::nullopt;
}

AbortWatcher::AbortWatcher(observe::Observer& observer, AbortMonitor monitor,
                           std::function<void(const AbortBreach&)> on_breach,
                           std::chrono::milliseconds period)
    : AbortWatcher(
          monitor.empty() ? Check{} : Check([&observer, monitor = std::move(monitor)](double now) {
            return monitor.check(observer.snapshot(now - monitor.lookback()), now);
          }),
          [&observer] { return observer.now(); }, std::move(on_breach), period) {}

AbortWatcher::AbortWatcher(Check check, std::function<double()> clock,
                           std::function<void(const AbortBreach&)> on_breach,
                           std::chrono::milliseconds period)
    : check_(std::move(check)),
      clock_(std::move(clock)),
      on_breach_(std::move(on_breach)),
      period_(period) {}

AbortWatcher::~AbortWatcher() { stop(); }

void AbortWatcher::start() {
  if (!check_ || thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    while (!stop.stop_requested()) {
      double now = clock_();
      std::optional<AbortBreach> b;
      try {
        b = check_(now);
      } catch (const std::exception& e) {
        // Without its watcher the drill runs unguarded: stop it (and so roll
        // back) rather than carry on, or let the exception terminate us.
        b = AbortBreach{"stop-condition watcher", now, 0, "",
                        std::string("the stop-condition watcher failed: ") + e.what()};
      }
      if (b) {
        {
          std::lock_guard lock(mu_);
          breach_ = b;
        }
        log::warn("stop condition breached: " + b->condition + ": " + b->message);
        on_breach_(*b);
        return;
      }
      std::unique_lock lock(mu);
      cv.wait_for(lock, stop, period_, [] { return false; });
    }
  });
}

void AbortWatcher::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

std::optional<AbortBreach> AbortWatcher::breach() const {
  std::lock_guard lock(mu_);
  return breach_;
}

}  // namespace faultline::slo
