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

  // What the run keeps for the report is bounded (the Lua memory cap does not
  // see it: log.info(string.rep("x", 32 << 20)) in a loop would grow it until
  // the runner is OOM-killed mid-drill): lines are cut at kMaxLogLine bytes,
  // the log stops at kMaxLogBytes, markers at kMaxMarkers; log() and
  // markers() then end with a line/marker saying what was dropped.
  static constexpr size_t kMaxLogLine = 4096;
  static constexpr size_t kMaxLogBytes = 1u << 20;
  static constexpr size_t kMaxMarkers = 10000;

  // `line` cut to kMaxLogLine, saying how much was cut.
  static std::string bounded_line(const std::string& line) {
    if (line.size() <= kMaxLogLine) return line;
    return line.substr(0, kMaxLogLine) + "... [" + std::to_string(line.size() - kMaxLogLine) +
           " bytes cut]";
  }
  void add_log(const std::string& line) {
    std::string kept = bounded_line(line);
    std::lock_guard lock(mutex_);
    if (log_bytes_ + kept.size() > kMaxLogBytes) {
      ++log_dropped_;
      return;
    }
    log_bytes_ += kept.size();
    log_.push_back(std::move(kept));
  }
  void add_marker(const std::string& kind, const std::string& label) {
    std::lock_guard lock(mutex_);
    if (markers_.size() >= kMaxMarkers) {
      ++markers_dropped_;
      return;
    }
    markers_.push_back({now(), kind, bounded_line(label)});
  }
  std::vector<std::string> log() const {
    std::lock_guard lock(mutex_);
    auto out = log_;
    if (log_dropped_ > 0)
      out.push_back("[log truncated: " + std::to_string(log_dropped_) + " line(s) dropped past " +
                    std::to_string(kMaxLogBytes >> 20) + " MiB]");
    return out;
  }
  std::vector<reports::Marker> markers() const {
    std::lock_guard lock(mutex_);
    auto out = markers_;
    if (markers_dropped_ > 0)
      out.push_back({now(), "phase",
                     "markers truncated: " + std::to_string(markers_dropped_) + " dropped past " +
                         std::to_string(kMaxMarkers)});
    return out;
  }

 private:
  std::chrono::steady_clock::time_point t0_;
  std::stop_source stop_;
  mutable std::mutex mutex_;
  std::string stop_reason_, phase_, waiting_on_;
  std::vector<std::string> log_;
  std::vector<reports::Marker> markers_;
  size_t log_bytes_ = 0, log_dropped_ = 0, markers_dropped_ = 0;
};

}  // namespace faultline::experiment
