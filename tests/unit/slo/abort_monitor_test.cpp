// Stop conditions on constructed and on live timelines.
#include "runner/slo/abort_monitor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/unit/observe/test_http_server.h"

namespace faultline::slo {
namespace {

using observe::RequestSample;
using observe::TimelineSnapshot;

AbortSpec availability_abort(double below, double window) {
  AbortSpec a;
  a.kind = AbortKind::Availability;
  a.probe = "http";
  a.below_ratio = below;
  a.window = window;
  return a;
}

// Samples every 0.1 s from 0 to `until`, failing from `fail_from` on.
TimelineSnapshot requests(double until, double fail_from) {
  TimelineSnapshot snap;
  for (int k = 0; k / 10.0 <= until + 1e-9; ++k) {
    RequestSample s;
    s.t = k / 10.0;
    s.ok = s.t < fail_from - 1e-9;
    snap.requests["http"].push_back(s);
  }
  return snap;
}

TEST(AbortMonitor, FiresWhenAvailabilityOverTheWindowFallsBelow) {
  AbortMonitor m({availability_abort(0.9, 10)});
  EXPECT_EQ(m.lookback(), 15);
  // At t=30 with failures from t=29: 10 of 100 samples in (20, 30] failed -> 90%: no breach.
  EXPECT_FALSE(m.check(requests(30, 29.05), 30));
  // From t=28.95: 11 failed -> 89%.
  auto b = m.check(requests(30, 28.95), 30);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->condition, "availability(http) below 90% over 10s");
  EXPECT_EQ(b->t, 30);
  EXPECT_EQ(b->value_text, "89%");
  EXPECT_EQ(b->message,
            "availability(http) was 89% over t=20.0s..t=30.0s (89 of 100 requests succeeded)");
  auto rec = b->record();
  EXPECT_EQ(rec.condition, b->condition);
  EXPECT_EQ(rec.value, "89%");
}

TEST(AbortMonitor, WaitsForAFullWindowBeforeJudging) {
  AbortMonitor m({availability_abort(0.9, 10)});
  // Everything failed, but the probe has only run for 5 s.
  EXPECT_FALSE(m.check(requests(5, 0), 5));
  EXPECT_TRUE(m.check(requests(10, 0), 10));
}

TEST(AbortMonitor, FiresWhenReadyEndpointsDropBelow) {
  AbortSpec a;
  a.kind = AbortKind::ReadyEndpoints;
  a.probe = "eps";
  a.service = "web";
  a.below_count = 1;
  AbortMonitor m({a});
  TimelineSnapshot snap;
  observe::EndpointsSample s;
  s.t = 3;
  s.ready_total = 2;
  snap.endpoints["eps"].push_back(s);
  EXPECT_FALSE(m.check(snap, 4));
  s.t = 5;
  s.ready_total = 0;
  snap.endpoints["eps"].push_back(s);
  EXPECT_FALSE(m.check(snap, 4.5));  // not yet at 4.5
  auto b = m.check(snap, 6);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->condition, "ready_endpoints(web) below 1");
  EXPECT_EQ(b->t, 5);
  EXPECT_EQ(b->value_text, "0 ready");
}

TEST(AbortMonitor, FiresOnThePrometheusBound) {
  AbortSpec a;
  a.kind = AbortKind::Prometheus;
  a.probe = "errors";
  a.above = 0.05;
  AbortMonitor m({a});
  TimelineSnapshot snap;
  observe::ValueSample v;
  v.t = 1;
  v.ok = true;
  v.value = 0.01;
  snap.values["errors"].push_back(v);
  EXPECT_FALSE(m.check(snap, 2));
  v.t = 2;
  v.ok = false;  // a failed query is no evidence either way
  snap.values["errors"].push_back(v);
  EXPECT_FALSE(m.check(snap, 3));
  v.t = 3;
  v.ok = true;
  v.value = 0.2;
  snap.values["errors"].push_back(v);
  auto b = m.check(snap, 3);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->condition, "prometheus(errors) above 0.05");
  EXPECT_EQ(b->value_text, "0.2");
}

// A live run: an Observer probing the test server, and an AbortWatcher that
// fires once the server starts failing.
TEST(AbortWatcher, StopsTheRunWhenTheLiveServiceFails) {
  faultline::testing::TestHttpServer server;
  observe::ProbeSpec p;
  p.name = "http";
  observe::HttpProbeSpec http;
  http.url = server.url();
  http.rate = 100;
  p.spec = http;
  observe::Observer o({p}, observe::ObserveContext{});
  std::atomic<int> fired{0};
  AbortWatcher w(
      o, AbortMonitor({availability_abort(0.9, 0.5)}), [&](const AbortBreach&) { ++fired; },
      std::chrono::milliseconds(20));
  o.start();
  w.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_FALSE(w.breach());  // healthy so far
  server.set_response({503, "down", "text/plain"});
  for (int i = 0; i < 200 && !w.breach(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  w.stop();
  o.stop();
  ASSERT_TRUE(w.breach());
  EXPECT_EQ(fired.load(), 1);
  EXPECT_EQ(w.breach()->condition, "availability(http) below 90% over 500ms");
  EXPECT_THAT(w.breach()->message, ::testing::HasSubstr("requests succeeded"));
}

// The watcher's own failure (here the check throws, as a snapshot would on
// bad_alloc) must stop the drill like a breach: on_breach is called once with
// the reason, and the exception never leaves the thread (std::terminate would
// skip the rollback).
TEST(AbortWatcher, ACheckThatThrowsStopsTheRunWithTheReason) {
  std::atomic<int> checks{0}, fired{0};
  std::string reason;
  AbortWatcher w(
      [&](double) -> std::optional<AbortBreach> {
        if (++checks == 3) throw std::runtime_error("snapshot: out of memory");
        return std::nullopt;
      },
      [] { return 12.5; },
      [&](const AbortBreach& b) {
        reason = b.message;
        ++fired;
      },
      std::chrono::milliseconds(5));
  w.start();
  for (int i = 0; i < 400 && !w.breach(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // no further checks after it
  w.stop();
  ASSERT_TRUE(w.breach());
  EXPECT_EQ(fired.load(), 1);
  EXPECT_EQ(checks.load(), 3);
  EXPECT_EQ(w.breach()->condition, "stop-condition watcher");
  EXPECT_DOUBLE_EQ(w.breach()->t, 12.5);
  EXPECT_EQ(reason, "the stop-condition watcher failed: snapshot: out of memory");
}

// Nothing to watch: no thread, never a breach.
TEST(AbortWatcher, WithoutStopConditionsNothingRuns) {
  observe::Observer o({}, observe::ObserveContext{});
  std::atomic<int> fired{0};
  AbortWatcher w(
      o, AbortMonitor({}), [&](const AbortBreach&) { ++fired; }, std::chrono::milliseconds(1));
  w.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  w.stop();
  EXPECT_FALSE(w.breach());
  EXPECT_EQ(fired.load(), 0);
}

}  // namespace
}  // namespace faultline::slo
