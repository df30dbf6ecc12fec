// Vantage pods (issue 13): an http probe with `from:` is probed from one pod
// per zone running `faultline probe` (runner/probe), and the runner follows
// each pod's log through the API server. This file holds what turns those
// log lines into samples on the run's timeline (VantageStream: clock offset,
// duplicates after a reconnect, samples that never arrived) and the thread
// that follows one pod's log (VantageFollower). Creating and deleting the
// pods is the runner's (runner/experiment/vantages.h): it journals them.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "runner/kube/client.h"
#include "runner/observe/timeline.h"

namespace faultline::observe {

// The timeline series of a probe seen from a zone: "web@zone-a".
std::string vantage_series(const std::string& probe, const std::string& zone);
// The inverse: {"web", "zone-a"}, nullopt for a probe's own series.
std::optional<std::pair<std::string, std::string>> split_vantage_series(const std::string& series);

// The error of the samples a vantage should have sent and never reported
// (its node lost power, its log stream broke for good): counted as failed,
// never dropped, and easy to tell from a failed request.
inline constexpr const char* kVantageLost = "vantage lost";

// What one vantage pod is: the pod manifest vantage_pod() builds.
struct VantagePodParams {
  std::string name, namespace_, run_id, probe, zone, image, url;
  double rate = 0;
  double timeout_s = 1;
  bool keepalive = true;
  std::map<std::string, std::string> node_selector;             // beside the zone label
  std::vector<std::map<std::string, std::string>> tolerations;  // beside faultline's own
  int max_seconds = 6 * 3600;  // activeDeadlineSeconds: a backstop if nobody ever deletes it
};
nlohmann::json vantage_pod(const VantagePodParams& p);

// One vantage pod's log, line by line, as samples on the runner's timeline.
//
// Clock offset: each sample line carries the pod's wall-clock time t of its
// slot and its latency, and is printed when the request completes, i.e. at
// pod time t + latency. The runner stamps each line with its own wall clock
// on arrival. arrival - (t + latency) = offset + delivery delay (kubelet,
// API server, runner), and the delay is never negative, so the smallest
// value seen so far is an upper bound of the true offset, too large by the
// fastest delivery seen. Samples are placed with the estimate current when
// they arrive: never early, late by at most that delivery delay.
class VantageStream {
 public:
  // run_t0_unix: the runner's wall clock at its t = 0.
  VantageStream(double rate, double timeout_s, double run_t0_unix);

  // A sample to add to the timeline, or nullopt (the header, a duplicate
  // after a reconnect, an error line). Throws nothing on bad input: a line
  // that is not JSON counts in malformed().
  std::optional<RequestSample> feed(std::string_view line, double arrival_unix);
  // Every slot of the pod's timetable from its first up to end_unix (runner
  // clock) minus the timeout and a second of slack that never reported, as
  // failed samples with error kVantageLost. Each slot is returned once.
  std::vector<RequestSample> lost_until(double end_unix);

  bool started() const { return start_pod_.has_value(); }
  double offset() const { return offset_ ? *offset_ : 0; }  // add to the pod's clock
  size_t received() const { return seen_.size(); }
  size_t malformed() const { return malformed_; }
  // The pod's clock time of the newest sample (for sinceTime on a reconnect).
  std::optional<double> last_pod_t() const { return last_pod_t_; }
  const std::string& probe_error() const { return probe_error_; }

 private:
  long long slot_of(double pod_t) const;
  double run_t(double pod_t) const { return pod_t + offset() - run_t0_unix_; }
  void observe_offset(double candidate);

  double rate_, timeout_s_, run_t0_unix_;
  std::optional<double> start_pod_, offset_, last_pod_t_;
  std::set<long long> seen_;
  long long lost_through_ = -1;  // slots up to here were already returned as lost
  size_t malformed_ = 0;
  std::string probe_error_;
};

// Follows one vantage pod's log (GET pods/log?follow=true) on a thread; a
// stream that ends or breaks is reopened from sinceTime (a second before the
// newest sample: the duplicates are dropped), with a backoff while the pod's
// kubelet cannot be reached. Samples go to `timeline` under `series`.
class VantageFollower {
 public:
  VantageFollower(kube::Client& client, std::string ns, std::string pod, std::string series,
                  Timeline& timeline, double rate, double timeout_s, Clock::time_point t0);
  ~VantageFollower();
  VantageFollower(const VantageFollower&) = delete;
  VantageFollower& operator=(const VantageFollower&) = delete;

  void start();
  // Stops following and adds the samples the pod owed up to run time
  // `end` as lost (once). Idempotent.
  void finish(double end);

  bool reporting() const { return received_.load() > 0; }
  double clock_offset() const;  // the stream's estimate, seconds
  // "342 samples, 0 lost, clock offset +0.4 ms (bound: the fastest log line, 3.1 ms)".
  std::string summary() const;
  std::string last_error() const;
  const std::string& series() const { return series_; }
  const std::string& pod() const { return pod_; }

 private:
  void run(std::stop_token stop);

  kube::Client& client_;
  std::string ns_, pod_, series_;
  Timeline& timeline_;
  Clock::time_point t0_;
  double t0_unix_;
  mutable std::mutex mu_;
  VantageStream stream_;  // under mu_
  std::string last_error_;
  size_t lost_ = 0;
  std::atomic<size_t> received_{0};
  std::jthread thread_;
  bool finished_ = false;
};

}  // namespace faultline::observe
