// The experiment script on a worker thread. The instruction hook cannot fire
// inside one C call (a backtracking string.find, a huge table.move), so after
// a stop the main thread waits only a grace period for the script and then
// rolls back whatever the script is doing: a Job's SIGTERM is followed by a
// SIGKILL, and a zone must not stay cordoned because a pattern match ran on.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <stop_token>

namespace faultline::experiment {

class ScriptThread {
 public:
  explicit ScriptThread(std::function<void()> body);
  // Joins a finished thread; detaches one still running (abandoned): the
  // caller must then end the process before what `body` uses is destroyed.
  ~ScriptThread();
  ScriptThread(const ScriptThread&) = delete;
  ScriptThread& operator=(const ScriptThread&) = delete;

  // Waits for the body; once `stop` is requested, for at most `grace` more.
  // Returns true when it finished (rethrowing what it threw), false when it
  // was still running at the end of the grace period.
  bool wait(std::stop_token stop, std::chrono::milliseconds grace);
  bool finished() const;

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;  // outlives an abandoned thread
};

}  // namespace faultline::experiment
