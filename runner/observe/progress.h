// The live view of a run on the terminal: phase, what the run is waiting on,
// current availability and Ready pods. One line rewritten in place on a TTY;
// plain lines (every interval, and when the phase changes) for logs and CI.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "runner/observe/observer.h"

namespace faultline::observe {

struct ProgressState {
  std::string phase;       // preflight, inject, observe, ...
  std::string waiting_on;  // "until_ready app=checkout off zone-a", "" when not waiting
  LiveStatus live;
};

// "[  12.3s] inject | waiting: ... | http 99.8% | pods 5/6 | endpoints 5"
std::string format_progress(const ProgressState& state);

class ProgressLine {
 public:
  ProgressLine(std::ostream& out, bool tty, double plain_interval_seconds = 10);
  ~ProgressLine();  // finish()

  // Whether stderr is a terminal (the usual `tty` argument).
  static bool stderr_is_tty();

  void update(const ProgressState& state);
  // Ends the in-place line so later output starts on a fresh one.
  void finish();

 private:
  std::ostream& out_;
  bool tty_;
  double interval_;
  std::optional<double> last_plain_;
  std::string last_phase_;
  bool open_ = false;
};

}  // namespace faultline::observe
