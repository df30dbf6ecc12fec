// Vantage pods' samples on the runner's timeline (runner/observe/vantage.h):
// clock offset, duplicates after a reconnect, slots that never reported
// ("vantage lost"), the pod manifest, and the log follower against a local
// server that cuts the stream (tests/unit/kube/test_server).
#include "runner/observe/vantage.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>

#include "runner/observe/series.h"
#include "tests/unit/kube/test_server.h"

namespace faultline::observe {
namespace {

using json = nlohmann::json;
using faultline::testing::Exchange;
using faultline::testing::TestServer;

std::string header(double t) {
  return json{{"probe", "start"}, {"t", t}, {"url", "http://x/"}, {"rate", 10}, {"zone", "zone-a"}}
      .dump();
}
std::string sample(double t, bool ok = true, double latency_ms = 2) {
  return json{{"t", t},
              {"zone", "zone-a"},
              {"ok", ok},
              {"status", ok ? 200 : 0},
              {"latency_ms", latency_ms},
              {"error", ok ? "" : "connect timeout after 1s"}}
      .dump();
}

TEST(VantageSeries, NamesAProbeFromAZoneAndBack) {
  EXPECT_EQ(vantage_series("web", "zone-a"), "web@zone-a");
  auto v = split_vantage_series("web@zone-a");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->first, "web");
  EXPECT_EQ(v->second, "zone-a");
  EXPECT_FALSE(split_vantage_series("web"));
  EXPECT_FALSE(split_vantage_series("web@"));
}

// The pod's clock runs 5 s ahead of the runner's; each line arrives 20 ms
// after the request completed (the fastest 3 ms). Every sample lands at its
// slot's runner time, late by at most the fastest delivery.
TEST(VantageStream, CorrectsThePodsClockByTheSmallestArrivalGap) {
  const double run_t0 = 1000.0, skew = 5.0;
  VantageStream s(10, 1, run_t0);
  double pod_start = run_t0 + 2 + skew;  // the pod starts at run t = 2
  EXPECT_FALSE(s.feed(header(pod_start), pod_start - skew + 0.050));
  std::vector<RequestSample> got;
  for (int k = 0; k < 10; ++k) {
    double pod_t = pod_start + k * 0.1;
    double delay = k == 3 ? 0.003 : 0.020;
    auto x = s.feed(sample(pod_t), pod_t + 0.002 - skew + delay);
    ASSERT_TRUE(x) << k;
    got.push_back(*x);
  }
  EXPECT_NEAR(s.offset(), -skew + 0.003, 1e-9);
  for (int k = 3; k < 10; ++k) EXPECT_NEAR(got[k].t, 2 + k * 0.1 + 0.003, 1e-6) << k;
  for (int k = 0; k < 3; ++k) {
    EXPECT_GE(got[k].t, 2 + k * 0.1) << "never placed early";
    EXPECT_LE(got[k].t, 2 + k * 0.1 + 0.020 + 1e-9) << k;
  }
  EXPECT_TRUE(got[0].ok);
  EXPECT_EQ(got[0].status, 200);
  EXPECT_DOUBLE_EQ(got[0].latency_ms, 2);
}

// After a reconnect with sinceTime the log repeats lines: each slot counts once.
// Slots that never arrived are lost (failed, never success), once each.
TEST(VantageStream, DropsReplayedLinesAndReportsMissingSlotsAsLost) {
  VantageStream s(10, 1, 0);
  s.feed(header(100), 100.001);
  for (int k = 0; k < 20; ++k) ASSERT_TRUE(s.feed(sample(100 + k * 0.1), 100.01 + k * 0.1));
  for (int k = 15; k < 20; ++k) EXPECT_FALSE(s.feed(sample(100 + k * 0.1), 200)) << "replayed";
  EXPECT_FALSE(s.feed("not json", 200));
  EXPECT_EQ(s.malformed(), 1u);
  EXPECT_EQ(s.received(), 20u);
  // The pod then went silent (its node lost power). At t = 7 s, slots up to
  // 7 - 1 s timeout - 1 s slack = 5 s were due: 50 slots, 30 of them missing.
  auto lost = s.lost_until(107);
  ASSERT_EQ(lost.size(), 30u);  // slots 20..49
  for (const auto& l : lost) {
    EXPECT_FALSE(l.ok);
    EXPECT_EQ(l.error, kVantageLost);
    EXPECT_EQ(l.status, 0);
  }
  EXPECT_NEAR(lost.front().t, 102, 0.02);
  EXPECT_NEAR(lost.back().t, 104.9, 0.02);
  EXPECT_TRUE(s.lost_until(107).empty()) << "each slot is lost once";
  EXPECT_EQ(s.lost_until(107.5).size(), 5u);
}

TEST(VantageStream, AFailedRequestIsAFailureAndAnErrorLineIsKept) {
  VantageStream s(10, 1, 0);
  s.feed(header(1), 1);
  auto f = s.feed(sample(1, false, 1000), 2.1);
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->ok);
  EXPECT_EQ(f->error, "connect timeout after 1s");
  s.feed(R"({"probe":"error","t":3,"error":"engine died"})", 3);
  EXPECT_EQ(s.probe_error(), "engine died");
}

TEST(VantagePod, IsPinnedToItsZoneToleratesTheZoneFailureAndRunsTheProbe) {
  VantagePodParams p;
  p.name = "faultline-vantage-web-zone-a-1a2b3";
  p.namespace_ = "faultline";
  p.run_id = "drill-20261201-1a2b3";
  p.probe = "web";
  p.zone = "zone-a";
  p.image = "faultline:0.1.0";
  p.url = "http://10.96.0.10/healthz";
  p.rate = 20;
  p.timeout_s = 0.5;
  p.keepalive = false;
  p.node_selector = {{"faultline.io/node-kind", "real"}};
  p.tolerations = {{{"key", "faultline.io/real-node"}, {"operator", "Exists"}}};
  json pod = vantage_pod(p);
  EXPECT_EQ(pod["metadata"]["namespace"], "faultline");
  EXPECT_EQ(pod["metadata"]["labels"]["faultline.io/run"], p.run_id);
  EXPECT_EQ(pod["metadata"]["labels"]["app.kubernetes.io/managed-by"], "faultline");
  EXPECT_EQ(pod["spec"]["nodeSelector"]["topology.kubernetes.io/zone"], "zone-a");
  EXPECT_EQ(pod["spec"]["nodeSelector"]["faultline.io/node-kind"], "real");
  ASSERT_EQ(pod["spec"]["tolerations"].size(), 2u);
  EXPECT_EQ(pod["spec"]["tolerations"][0]["key"], "faultline.io/zone-failure");
  EXPECT_EQ(pod["spec"]["tolerations"][0]["effect"], "NoExecute");
  EXPECT_EQ(pod["spec"]["tolerations"][1]["key"], "faultline.io/real-node");
  EXPECT_EQ(pod["spec"]["automountServiceAccountToken"], false);
  const auto& c = pod["spec"]["containers"][0];
  EXPECT_EQ(c["image"], "faultline:0.1.0");
  EXPECT_EQ(c["args"], json({"probe", "--url", "http://10.96.0.10/healthz", "--rate", "20/s",
                             "--timeout", "500ms", "--zone", "zone-a", "--no-keepalive"}));
  EXPECT_EQ(pod["spec"]["securityContext"]["runAsNonRoot"], true);
}

TEST(VantageSeriesNames, CarryTheProbeAndTheVantage) {
  TimelineSnapshot snap;
  snap.requests["web@zone-a"] = {RequestSample{0.5, 0.5, 1, 200, true, ""}};
  snap.requests["web@zone-b"] = {RequestSample{0.5, 0.5, 1, 0, false, kVantageLost}};
  auto series = to_series(snap);
  std::vector<std::string> names;
  for (const auto& s : series) names.push_back(s.name);
  EXPECT_NE(std::find(names.begin(), names.end(), "availability{probe=web,vantage=zone-a}"),
            names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "availability{probe=web,vantage=zone-b}"),
            names.end());
  // A lost sample has no latency: no point, rather than 0 ms.
  for (const auto& s : series) {
    if (s.name == "latency_p95_ms{probe=web,vantage=zone-b}") {
      EXPECT_TRUE(s.points.empty());
    }
  }
}

// The first stream sends the header and slots 0..4, then the connection is
// cut; the follower reopens it with sinceTime and gets 3..9 again (3 and 4
// replayed), then the server holds the stream open with nothing (a node
// that went dark). finish() counts the slots that never came as lost.
TEST(VantageFollower, ReconnectsWithSinceTimeDropsReplaysAndCountsWhatNeverCame) {
  // The pod started a second ago, so its samples are all in the past; the
  // lines the second stream replays arrive later still, so the estimate is
  // what the first stream's fastest line gave (its clock equals ours).
  double pod_start =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() -
      1.0;
  std::atomic<int> streams{0};
  std::mutex mu;
  std::vector<std::string> targets;
  TestServer server([&](Exchange& ex) {
    {
      std::lock_guard lock(mu);
      targets.push_back(ex.request.target);
    }
    int n = streams++;
    ex.begin_stream(200);
    if (n == 0) {
      ex.chunk(header(pod_start) + "\n");
      for (int k = 0; k < 5; ++k) ex.chunk(sample(pod_start + k * 0.1) + "\n");
      ex.cut();
      return;
    }
    for (int k = 3; k < 10; ++k) ex.chunk(sample(pod_start + k * 0.1) + "\n");
    ex.hang();
  });
  kube::ClientConfig c;
  c.server = server.url();
  c.max_retries = 0;
  kube::Client client(c);
  Timeline timeline;
  auto t0 = Clock::now();
  VantageFollower f(client, "faultline", "vp-a", "web@zone-a", timeline, 10, 1, t0);
  f.start();
  for (int i = 0; i < 100 && timeline.snapshot().requests["web@zone-a"].size() < 10; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto now = Clock::now();
  double end = seconds_between(t0, now) + 3.0;  // 3 s more were due
  double end_unix =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() +
      3.0;
  f.finish(end);
  // Due: every slot up to end - 1 s timeout - 1 s slack; received: 0..9.
  double offset = f.clock_offset();
  EXPECT_GT(offset, 0);
  EXPECT_LT(offset, 1.0);
  int expected_lost = int(std::floor((end_unix - offset - 2 - pod_start) * 10)) - 9;
  auto samples = timeline.snapshot().requests["web@zone-a"];
  int ok = 0, lost = 0;
  for (const auto& s : samples) ok += s.ok, lost += s.error == kVantageLost;
  EXPECT_EQ(ok, 10);
  EXPECT_GE(lost, expected_lost - 1);
  EXPECT_LE(lost, expected_lost + 1);
  EXPECT_GT(lost, 0);
  EXPECT_EQ(static_cast<size_t>(ok + lost), samples.size());
  std::lock_guard lock(mu);
  ASSERT_GE(targets.size(), 2u);
  EXPECT_EQ(
      targets[0].rfind("/api/v1/namespaces/faultline/pods/vp-a/log?container=probe&follow=true", 0),
      0u)
      << targets[0];
  EXPECT_EQ(targets[0].find("sinceTime"), std::string::npos);
  EXPECT_NE(targets[1].find("&sinceTime=20"), std::string::npos) << targets[1];
  EXPECT_NE(f.summary().find("10 samples"), std::string::npos) << f.summary();
}

}  // namespace
}  // namespace faultline::observe
