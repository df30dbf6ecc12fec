#include "runner/kube/backoff.h"

#include <algorithm>
#include <random>

namespace faultline::kube {

std::chrono::milliseconds Backoff::delay(int attempt, std::optional<double> retry_after) const {
  if (retry_after) {
    auto ms = std::chrono::milliseconds(static_cast<long long>(*retry_after * 1000));
    return std::clamp(ms, std::chrono::milliseconds(0), max_retry_after);
  }
  long long ceiling = base.count();
  for (int i = 0; i < attempt && ceiling < cap.count(); ++i) ceiling *= 2;
  ceiling = std::min<long long>(ceiling, cap.count());
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<long long> dist(0, ceiling);
  return std::chrono::milliseconds(dist(rng));
}

}  // namespace faultline::kube
