#include "runner/observe/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace faultline::observe {
namespace {

// Rounded down: 99.96% shows as 99.9%, never as a rosier 100.0%.
std::string percent(int ok, int total) {
  double p = std::floor(1000.0 * ok / total) / 10.0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", p);
  return buf;
}

}  // namespace

std::string format_progress(const ProgressState& s) {
  char head[48];
  std::snprintf(head, sizeof head, "[%7.1fs] ", s.live.t);
  std::string line = head + (s.phase.empty() ? std::string("running") : s.phase);
  if (!s.waiting_on.empty()) line += " | waiting: " + s.waiting_on;
  for (const auto& a : s.live.availability)
    line += " | " + a.probe + " " + (a.total ? percent(a.ok, a.total) : std::string("--"));
  if (s.live.ready_pods)
    line += " | pods " + std::to_string(*s.live.ready_pods) + "/" +
            std::to_string(s.live.desired_pods.value_or(*s.live.ready_pods));
  if (s.live.pods_on_faulted_zones && *s.live.pods_on_faulted_zones > 0)
    line += " (" + std::to_string(*s.live.pods_on_faulted_zones) + " on faulted zones)";
  if (s.live.ready_endpoints) line += " | endpoints " + std::to_string(*s.live.ready_endpoints);
  return line;
}

ProgressLine::ProgressLine(std::ostream& out, bool tty, double plain_interval_seconds)
    : out_(out), tty_(tty), interval_(plain_interval_seconds) {}

ProgressLine::~ProgressLine() { finish(); }

bool ProgressLine::stderr_is_tty() { return isatty(STDERR_FILENO) == 1; }

void ProgressLine::update(const ProgressState& state) {
  if (tty_) {
    // \r back to the start, \x1b[K clears what a longer previous line left.
    out_ << '\r' << format_progress(state) << "\x1b[K" << std::flush;
    open_ = true;
    return;
  }
  bool phase_changed = state.phase != last_phase_;
  if (!phase_changed && last_plain_ && state.live.t - *last_plain_ < interval_) return;
  out_ << format_progress(state) << '\n' << std::flush;
  last_plain_ = state.live.t;
  last_phase_ = state.phase;
}

void ProgressLine::finish() {
  if (tty_ && open_) out_ << '\n' << std::flush;
  open_ = false;
}

}  // namespace faultline::observe
