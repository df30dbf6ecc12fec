// A kube::Client over a FakeTransport for the chaos unit tests: no rate
// limit, no retries, so every request the code makes is one the fake sees.
#pragma once

#include <memory>

#include "runner/kube/client.h"
#include "tests/unit/kube/fake_transport.h"

namespace faultline::chaos::testing {

inline kube::Client fake_client(std::shared_ptr<faultline::testing::FakeTransport> fake) {
  kube::ClientConfig c;
  c.server = "https://127.0.0.1:1";
  c.qps = 0;
  c.max_retries = 0;
  return kube::Client(c, std::move(fake));
}

}  // namespace faultline::chaos::testing
