// What one run shares between its parts: the clock, the stop signal, the
// phase for the progress line, and the script's log lines for the report.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "reports/run_record.h"

namespace faultline::experiment {

class RunContext {
 public:
  RunContext() : t0_(std::chrono::steady_clock::now()) {}

  std::chrono::steady_clock::time_point t0() const { return t0_; }
  double now() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count(); }

  std::stop_source& stop() { return stop_; }
  std::stop_token stop_token() const { return stop_.get_token(); }
  // Why the run was stopped ("SIGTERM", "stop condition ..."), first one wins.
  void request_stop(const std::string& why) {
    {
      std::lock_guard lock(mutex_);
      if (stop_reason_.empty()) stop_reason_ = why;
    }
    stop_.request_stop();
  }
  std::string stop_reason() const {
    std::lock_guard lock(mutex_);
    return stop_reason_;
  }

  void set_phase(const std::string& phase, const std::string& waiting_on = "") {
    std::lock_guard lock(mutex_);
    phase_ = phase;
    waiting_on_ = waiting_on;
  }
  std::pair<std::string, std::string> phase() const {
    std::lock_guard lock(mutex_);
    return {phase_, waiting_on_};
  }

  void add_log(const std::string& line) {
    std::lock_guard lock(mutex_);
    log_.push_back(line);
  }
  void add_marker(const std::string& kind, const std::string& label) {
    std::lock_guard lock(mutex_);
    markers_.push_back({now(), kind, label});
  }
  std::vector<std::string> log() const {
    std::lock_guard lock(mutex_);
    return log_;
  }
  std::vector<reports::Marker> markers() const {
    std::lock_guard lock(mutex_);
    return markers_;
  }

 private:
  std::chrono::steady_clock::time_point t0_;
  std::stop_source stop_;
  mutable std::mutex mutex_;
  std::string stop_reason_, phase_, waiting_on_;
  std::vector<std::string> log_;
  std::vector<reports::Marker> markers_;
};

}  // namespace faultline::experiment
