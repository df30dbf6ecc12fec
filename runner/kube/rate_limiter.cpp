#include "runner/kube/rate_limiter.h"

#include <algorithm>
#include <condition_variable>
#include <thread>

namespace faultline::kube {

RateLimiter::RateLimiter(double qps, int burst)
    : qps_(qps), burst_(std::max(1, burst)), tokens_(std::max(1, burst)), last_(Clock::now()) {}

// Reservations, as in golang.org/x/time/rate: the bucket may go negative, and
// each caller sleeps outside the lock for exactly its own share of the debt,
// so waiters are served in order without a thundering herd.
RateLimiter::Clock::duration RateLimiter::reserve(Clock::time_point now) {
  std::lock_guard lock(mu_);
  double elapsed = std::chrono::duration<double>(now - last_).count();
  if (elapsed > 0) {
    tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
    last_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0) return Clock::duration::zero();
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(-tokens_ / qps_));
}

bool RateLimiter::acquire(std::stop_token stop) {
  if (qps_ <= 0) return true;
  auto wait = reserve(Clock::now());
  if (wait <= Clock::duration::zero()) return true;
  if (sleep_for(wait, stop)) return true;
  // Give the unused token back so a stopped waiter does not slow the others.
  std::lock_guard lock(mu_);
  tokens_ = std::min(burst_, tokens_ + 1);
  return false;
}

RateLimiter::Clock::duration RateLimiter::reserve_delay_for_test() {
  if (qps_ <= 0) return Clock::duration::zero();
  auto wait = reserve(Clock::now());
  std::lock_guard lock(mu_);
  tokens_ += 1;
  return wait;
}

bool sleep_for(std::chrono::steady_clock::duration d, std::stop_token stop) {
  if (!stop.stop_possible()) {
    std::this_thread::sleep_for(d);
    return true;
  }
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, stop, d, [] { return false; });  // wakes early only on stop
  return !stop.stop_requested();
}

}  // namespace faultline::kube
