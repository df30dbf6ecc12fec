// Fixed-rate request engine for the http and tcp probes: one thread, libcurl
// multi driven by epoll and a timerfd. Request k is due at start + k/rate
// whatever happened to earlier ones (wrk2's answer to coordinated omission):
// when the service stalls, requests keep going out on the timetable, and each
// latency is measured from the *scheduled* time, so a stall shows up as the
// latency it caused and never as fewer samples.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runner/observe/timeline.h"

namespace faultline::observe {

struct RequestTarget {
  std::string url;             // http(s)://...; for connect_only http://host:port
  std::string method = "GET";  // GET | HEAD
  std::chrono::milliseconds timeout{1000};
  std::vector<int> expect_status;  // empty: 2xx and 3xx are successes
  std::optional<std::string> body_contains;
  bool connect_only = false;  // tcp probe: success = the connection was established
  bool keepalive = true;
  bool insecure_skip_tls_verify = false;
  // CURLOPT_RESOLVE entries, "host:port:address" (a Service name pinned to
  // its clusterIP, see service_host.h).
  std::vector<std::string> resolve;
};

struct EngineStats {
  long long scheduled = 0;  // slots that came due
  long long completed = 0;
  long long not_sent = 0;  // recorded as failures: in-flight limit reached
  size_t max_in_flight = 0;
};

class RequestEngine {
 public:
  using Sink = std::function<void(RequestSample)>;

  // t0: the run's t = 0. sink is called on the engine thread, once per slot.
  RequestEngine(RequestTarget target, double rate, Clock::time_point t0, Sink sink);
  ~RequestEngine();  // stop()
  RequestEngine(const RequestEngine&) = delete;
  RequestEngine& operator=(const RequestEngine&) = delete;

  // Starts the thread; the timetable starts now.
  void start();
  // Stops issuing, lets requests in flight finish (each is bounded by the
  // timeout) and joins. Idempotent.
  void stop();
  EngineStats stats() const;
  // Set when the engine thread failed (libcurl/epoll setup); never silent.
  std::optional<std::string> error() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
};

// One request, blocking (Lua's probe.http, preflight checks). t is the time it
// started, relative to t0.
RequestSample request_once(const RequestTarget& target, Clock::time_point t0);

}  // namespace faultline::observe
