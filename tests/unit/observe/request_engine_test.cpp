// The fixed-rate http/tcp probe engine against a real loopback HTTP server.
#include "runner/observe/request_engine.h"

#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "tests/unit/observe/test_http_server.h"

namespace faultline::observe {
namespace {

using faultline::testing::TestHttpServer;
using faultline::testing::TestResponse;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Collects what the engine's sink receives.
class Collected {
 public:
  RequestEngine::Sink sink() {
    return [this](RequestSample s) {
      std::lock_guard lock(mu_);
      samples_.push_back(std::move(s));
    };
  }
  std::vector<RequestSample> sorted() const {
    std::lock_guard lock(mu_);
    auto v = samples_;
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.t < b.t; });
    return v;
  }

 private:
  mutable std::mutex mu_;
  std::vector<RequestSample> samples_;
};

RequestTarget target(const std::string& url, milliseconds timeout = milliseconds(1000)) {
  RequestTarget t;
  t.url = url;
  t.timeout = timeout;
  return t;
}

// Runs an engine for `d`, then stops it (which waits for requests in flight).
std::vector<RequestSample> run_for(const RequestTarget& t, double rate, milliseconds d,
                                   EngineStats* stats = nullptr,
                                   const std::function<void()>& during = nullptr) {
  Collected got;
  RequestEngine engine(t, rate, Clock::now(), got.sink());
  engine.start();
  if (during) during();
  std::this_thread::sleep_for(d);
  engine.stop();
  EXPECT_FALSE(engine.error().has_value()) << *engine.error();
  if (stats) *stats = engine.stats();
  return got.sorted();
}

size_t open_fds() {
  size_t n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (readdir(d)) ++n;
  closedir(d);
  return n;
}

TEST(HttpProbe, RecordsEverySlotOfTheTimetableOnce) {
  TestHttpServer server;
  const double rate = 200;
  EngineStats stats;
  auto samples = run_for(target(server.url("/healthz")), rate, milliseconds(500), &stats);
  ASSERT_GE(samples.size(), 10u);
  EXPECT_EQ(static_cast<long long>(samples.size()), stats.scheduled);
  EXPECT_EQ(stats.completed, stats.scheduled);
  for (size_t i = 1; i < samples.size(); ++i)
    EXPECT_NEAR(samples[i].t - samples[i - 1].t, 1.0 / rate, 1e-6) << "slot " << i;
  for (const auto& s : samples) {
    EXPECT_TRUE(s.ok) << s.error;
    EXPECT_EQ(s.status, 200);
    EXPECT_GE(s.sent, s.t);
    EXPECT_GE(s.latency_ms, (s.sent - s.t) * 1000 - 1e-6);
  }
  EXPECT_EQ(server.requests(), static_cast<long>(samples.size()));
  EXPECT_EQ(server.recorded().front().path, "/healthz");
}

TEST(HttpProbe, CountsServerErrorsAsFailures) {
  TestHttpServer server;
  server.set_response({500, "boom", "text/plain"});
  auto samples = run_for(target(server.url()), 100, milliseconds(200));
  ASSERT_FALSE(samples.empty());
  for (const auto& s : samples) {
    EXPECT_FALSE(s.ok);
    EXPECT_EQ(s.status, 500);
    EXPECT_EQ(s.error, "status 500");
  }
}

// Nothing listens: one stable error text for every such request (libcurl's
// own message carries per-request timings, which would split the counts).
TEST(HttpProbe, CountsARefusedConnectionAsConnectionRefused) {
  int port = testing::free_port();  // nothing listens there
  auto samples =
      run_for(target("http://127.0.0.1:" + std::to_string(port) + "/"), 50, milliseconds(200));
  ASSERT_FALSE(samples.empty());
  for (const auto& s : samples) {
    EXPECT_FALSE(s.ok);
    EXPECT_EQ(s.status, 0);
    EXPECT_EQ(s.error, "connection refused");
  }
}

TEST(HttpProbe, CountsTimeoutsWithTheirFullLatency) {
  TestHttpServer server;
  server.hang();
  auto samples = run_for(target(server.url(), milliseconds(200)), 20, milliseconds(300));
  server.release();
  ASSERT_FALSE(samples.empty());
  for (const auto& s : samples) {
    EXPECT_FALSE(s.ok);
    EXPECT_EQ(s.status, 0);
    EXPECT_EQ(s.error, "timeout after 200ms");
    EXPECT_GE(s.latency_ms, 200.0);
  }
}

// wrk2's coordinated omission: while the server stalls for 1 s, requests keep
// going out on the timetable (each on a new connection) and every one of
// them is charged from its scheduled time until the stall ended.
TEST(HttpProbe, KeepsTheTimetableWhileTheServerStalls) {
  TestHttpServer server;
  const double rate = 100;
  Clock::time_point t0 = Clock::now();
  Collected got;
  RequestEngine engine(target(server.url(), milliseconds(5000)), rate, t0, got.sink());
  engine.start();
  std::this_thread::sleep_for(milliseconds(300));
  // The stall is in force before stall_begin: every request scheduled after
  // it arrives stalled, however late the engine sends it.
  auto stall_end = Clock::now() + milliseconds(1000);
  server.stall_until(stall_end);
  auto stall_begin = Clock::now();
  std::this_thread::sleep_for(milliseconds(1300));
  engine.stop();
  auto samples = got.sorted();

  double begin_t = seconds_between(t0, stall_begin), end_t = seconds_between(t0, stall_end);
  for (size_t i = 1; i < samples.size(); ++i)
    ASSERT_NEAR(samples[i].t - samples[i - 1].t, 1.0 / rate, 1e-6) << "slot " << i << " missing";
  int in_stall = 0;
  for (const auto& s : samples) {
    EXPECT_TRUE(s.ok) << s.error;
    // A request scheduled during the stall cannot have been answered before it ended.
    if (s.t > begin_t && s.t < end_t) {
      ++in_stall;
      EXPECT_GE(s.latency_ms, (end_t - s.t) * 1000 - 1) << "t=" << s.t;
    }
  }
  EXPECT_GE(in_stall, 90);  // ~1 s at 100/s
}

TEST(HttpProbe, JudgesTheBodyWhenAsked) {
  TestHttpServer server;
  server.set_response({200, "status: healthy", "text/plain"});
  auto t = target(server.url());
  t.body_contains = "healthy";
  auto good = request_once(t, Clock::now());
  EXPECT_TRUE(good.ok) << good.error;
  t.body_contains = "ready";
  auto bad = request_once(t, Clock::now());
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.status, 200);
  EXPECT_EQ(bad.error, "body does not contain the expected text");
}

TEST(HttpProbe, AcceptsOnlyTheExpectedStatusesWhenListed) {
  TestHttpServer server;
  server.set_response({404, "", "text/plain"});
  auto t = target(server.url());
  EXPECT_FALSE(request_once(t, Clock::now()).ok);
  t.expect_status = {404};
  EXPECT_TRUE(request_once(t, Clock::now()).ok);
  server.set_response({200, "", "text/plain"});
  EXPECT_FALSE(request_once(t, Clock::now()).ok);
}

TEST(HttpProbe, RedirectIsASuccessByDefaultAndNotFollowed) {
  TestHttpServer server;
  server.set_response({302, "", "text/plain"});
  auto s = request_once(target(server.url()), Clock::now());
  EXPECT_TRUE(s.ok);
  EXPECT_EQ(s.status, 302);
  EXPECT_EQ(server.requests(), 1);
}

TEST(HttpProbe, SendsHeadWhenAsked) {
  TestHttpServer server;
  auto t = target(server.url());
  t.method = "HEAD";
  auto s = request_once(t, Clock::now());
  EXPECT_TRUE(s.ok) << s.error;
  ASSERT_EQ(server.recorded().size(), 1u);
  EXPECT_EQ(server.recorded()[0].method, "HEAD");
}

TEST(HttpProbe, RefusedConnectionIsAFailureWithTheReason) {
  int port = faultline::testing::free_port();
  auto s = request_once(target("http://127.0.0.1:" + std::to_string(port) + "/"), Clock::now());
  EXPECT_FALSE(s.ok);
  EXPECT_EQ(s.status, 0);
  // The cause, as one class (the probe and its URL are named by the report).
  EXPECT_EQ(s.error, "connection refused");
}

TEST(HttpProbe, ReusesConnectionsWhenKeepaliveIsOn) {
  TestHttpServer server;
  auto before = open_fds();
  auto samples = run_for(target(server.url()), 200, milliseconds(300));
  ASSERT_GE(samples.size(), 20u);
  // The server saw every request, over far fewer connections.
  EXPECT_EQ(server.requests(), static_cast<long>(samples.size()));
  std::this_thread::sleep_for(milliseconds(300));  // the server notices closed connections
  EXPECT_LE(open_fds(), before + 8);
}

TEST(TcpProbe, SucceedsWhenSomethingListens) {
  TestHttpServer server;
  auto t = target("http://127.0.0.1:" + std::to_string(server.port()) + "/");
  t.connect_only = true;
  auto before = open_fds();
  EngineStats stats;
  auto samples = run_for(t, 200, milliseconds(300), &stats);
  ASSERT_GE(samples.size(), 20u);
  for (const auto& s : samples) EXPECT_TRUE(s.ok) << s.error;
  EXPECT_EQ(server.requests(), 0);  // connected, never spoke HTTP
  // Each connect is closed after it is judged: no descriptor leaks.
  std::this_thread::sleep_for(milliseconds(300));  // the server notices closed connections
  EXPECT_LE(open_fds(), before + 8);
}

TEST(TcpProbe, FailsWhenNothingListens) {
  int port = faultline::testing::free_port();
  auto t = target("http://127.0.0.1:" + std::to_string(port) + "/");
  t.connect_only = true;
  auto s = request_once(t, Clock::now());
  EXPECT_FALSE(s.ok);
  EXPECT_THAT(s.error, HasSubstr("onnect"));
}

TEST(RequestEngine, StopWaitsForRequestsInFlight) {
  TestHttpServer server;
  server.set_delay(milliseconds(300));
  EngineStats stats;
  auto samples = run_for(target(server.url()), 50, milliseconds(100), &stats);
  EXPECT_EQ(stats.completed, stats.scheduled);
  for (const auto& s : samples) {
    EXPECT_TRUE(s.ok) << s.error;
    EXPECT_GE(s.latency_ms, 300.0);
  }
}

}  // namespace
}  // namespace faultline::observe
