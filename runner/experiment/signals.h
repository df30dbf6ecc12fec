// SIGINT/SIGTERM (a deleted Job) must not kill the runner mid-fault: they are
// blocked in every thread and received by one thread, which asks the run to
// stop; rollback then runs as on any other exit path.
#pragma once

#include <functional>
#include <string>

namespace faultline::experiment {

// Call first thing in main(), before any thread exists.
void install_signal_handling();
// The callback for the next signals (replaces the previous one).
void on_signal(std::function<void(const std::string& signal_name)> fn);

// Clears the callback when it goes out of scope, on every return path, so a
// signal never calls into a destroyed object.
class SignalScope {
 public:
  SignalScope() = default;
  ~SignalScope() { on_signal(nullptr); }
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;
};

}  // namespace faultline::experiment
