// Client-side rate limiting like client-go's: a token bucket of `burst`
// tokens refilled at `qps` per second, shared by every thread of a Client.
#pragma once

#include <chrono>
#include <mutex>
#include <stop_token>

namespace faultline::kube {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // qps <= 0 disables limiting.
  RateLimiter(double qps, int burst);

  // Takes one token, sleeping until it is available. Returns false (without
  // a token) when stop is requested while waiting.
  bool acquire(std::stop_token stop = {});
  // The wait acquire() would need now, without taking a token (for tests).
  Clock::duration reserve_delay_for_test();

 private:
  // Takes a token at `now`; returns how long the caller must wait for it.
  Clock::duration reserve(Clock::time_point now);

  const double qps_;
  const double burst_;
  std::mutex mu_;
  double tokens_;
  Clock::time_point last_;
};

// Sleeps for d, or less when stop is requested. Returns false if stopped.
bool sleep_for(std::chrono::steady_clock::duration d, std::stop_token stop);

}  // namespace faultline::kube
