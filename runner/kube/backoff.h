// Retry delays for idempotent requests: exponential backoff with full jitter
// (uniform in [0, min(cap, base * 2^attempt)]), so a fleet of clients that
// failed together does not retry together; a server's Retry-After wins,
// capped so a hostile or confused server cannot park us for hours.
#pragma once

#include <chrono>
#include <optional>

namespace faultline::kube {

struct Backoff {
  std::chrono::milliseconds base{100};
  std::chrono::milliseconds cap{5000};
  std::chrono::milliseconds max_retry_after{30000};

  // attempt counts from 0 (the delay before the first retry).
  std::chrono::milliseconds delay(int attempt, std::optional<double> retry_after_seconds) const;
};

}  // namespace faultline::kube
