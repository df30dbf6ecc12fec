// The timeline store, the report series made from it, and the progress line.
#include "runner/observe/timeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "runner/observe/progress.h"
#include "runner/observe/series.h"

namespace faultline::observe {
namespace {

RequestSample req(double t, bool ok, double latency_ms = 1) {
  RequestSample s;
  s.t = t;
  s.ok = ok;
  s.latency_ms = latency_ms;
  return s;
}

EndpointsSample eps(double t, int ready) {
  EndpointsSample s;
  s.t = t;
  s.ready_total = ready;
  return s;
}

TEST(Timeline, KeepsSamplesInTimeOrderWhenTheyCompleteOutOfOrder) {
  Timeline tl;
  tl.add("http", req(0.2, true));
  tl.add("http", req(0.0, true));
  tl.add("http", req(0.1, false));
  auto s = tl.snapshot();
  ASSERT_EQ(s.requests["http"].size(), 3u);
  EXPECT_EQ(s.requests["http"][0].t, 0.0);
  EXPECT_EQ(s.requests["http"][1].t, 0.1);
  EXPECT_EQ(s.requests["http"][2].t, 0.2);
}

TEST(Timeline, SnapshotSinceKeepsTheStateInForceAtItsStart) {
  Timeline tl;
  tl.declare("eps", SeriesKind::Endpoints);
  tl.add("eps", eps(1, 3));
  tl.add("eps", eps(2, 2));
  tl.add("eps", eps(5, 1));
  tl.add("http", req(1, true));
  tl.add("http", req(4, true));
  auto s = tl.snapshot(3);
  ASSERT_EQ(s.endpoints["eps"].size(), 2u);
  EXPECT_EQ(s.endpoints["eps"][0].ready_total, 2);  // in force at t=3
  ASSERT_EQ(s.requests["http"].size(), 1u);
  EXPECT_EQ(s.requests["http"][0].t, 4);
}

// The report's copy: everything moved out, the same as a snapshot of it,
// and nothing left behind.
TEST(Timeline, TakeMovesEverythingOutAndLeavesItEmpty) {
  Timeline tl;
  tl.declare("eps", SeriesKind::Endpoints);
  tl.add("eps", eps(1, 3));
  tl.add("eps", eps(2, 2));
  tl.add("http", req(1, true));
  tl.mark_fault_start(1.5);
  auto copy = tl.snapshot(-std::numeric_limits<double>::infinity(), 7);
  auto taken = tl.take(7);
  EXPECT_EQ(taken.taken, 7);
  ASSERT_EQ(taken.endpoints["eps"].size(), copy.endpoints["eps"].size());
  EXPECT_EQ(taken.endpoints["eps"][1].ready_total, 2);
  EXPECT_EQ(taken.requests["http"].size(), 1u);
  EXPECT_EQ(taken.fault_start, 1.5);
  auto left = tl.snapshot();
  EXPECT_TRUE(left.endpoints.empty());
  EXPECT_TRUE(left.requests.empty());
  EXPECT_FALSE(left.fault_start);
}

TEST(Timeline, DeclaredProbesAppearBeforeTheirFirstSample) {
  Timeline tl;
  tl.declare("errors", SeriesKind::Values);
  auto s = tl.snapshot();
  ASSERT_EQ(s.values.count("errors"), 1u);
  EXPECT_TRUE(s.values["errors"].empty());
}

TEST(Timeline, RequestRatioCountsAClosedWindow) {
  Timeline tl;
  for (int i = 0; i <= 10; ++i) tl.add("http", req(i, i % 2 == 0));
  auto r = tl.request_ratio("http", 2, 6);
  EXPECT_EQ(r.total, 5);
  EXPECT_EQ(r.ok, 3);  // 2, 4, 6
}

TEST(Timeline, DisruptionsOpenAndClose) {
  Timeline tl;
  int id = tl.begin_disruption("drain zone-a", true, 3);
  tl.begin_disruption("violate_pdb web", false, 4);
  tl.end_disruption(id, 9);
  auto s = tl.snapshot();
  ASSERT_EQ(s.disruptions.size(), 2u);
  EXPECT_EQ(s.disruptions[0].to, 9);
  EXPECT_FALSE(s.disruptions[1].to);
  EXPECT_FALSE(s.disruptions[1].voluntary);
}

TEST(Timeline, EvictionsKeepTimeOrderAndASnapshotSinceDropsTheEarlierOnes) {
  Timeline tl;
  tl.add(EvictionEvent{5, "shop/web-b", "n1", "drain zone-a"});
  tl.add(EvictionEvent{2, "shop/web-a", "n1", "drain zone-a"});
  tl.add(EvictionEvent{7, "shop/web-c", "n2", ""});
  auto all = tl.snapshot();
  ASSERT_EQ(all.evictions.size(), 3u);
  EXPECT_EQ(all.evictions[0].pod, "shop/web-a");
  EXPECT_EQ(all.evictions[1].pod, "shop/web-b");
  EXPECT_EQ(all.evictions[2].node, "n2");
  auto since = tl.snapshot(5);  // events, not state: the one at t=2 is not kept
  ASSERT_EQ(since.evictions.size(), 2u);
  EXPECT_EQ(since.evictions[0].pod, "shop/web-b");
  EXPECT_EQ(since.evictions[0].label, "drain zone-a");
}

TEST(Timeline, VoluntaryDisruptionAtNamesTheOpenDrainNotAViolation) {
  Timeline tl;
  int drain = tl.begin_disruption("drain zone-a", true, 3);
  tl.end_disruption(drain, 9);
  tl.begin_disruption("violate_pdb web", false, 10);
  tl.begin_disruption("drain zone-b", true, 12);  // still open
  EXPECT_EQ(tl.voluntary_disruption_at(2), "");
  EXPECT_EQ(tl.voluntary_disruption_at(4), "drain zone-a");
  EXPECT_EQ(tl.voluntary_disruption_at(11), "");  // only the violation was open
  EXPECT_EQ(tl.voluntary_disruption_at(30), "drain zone-b");
}

TEST(Timeline, FirstFaultStartsTheWindow) {
  Timeline tl;
  tl.mark_fault_start(5);
  tl.mark_fault_start(8);
  tl.set_faulted_zones({"b", "a", "b"});
  auto s = tl.snapshot();
  EXPECT_EQ(s.fault_start, 5);
  EXPECT_EQ(s.faulted_zones, (std::vector<std::string>{"a", "b"}));
}

const reports::Series* find(const std::vector<reports::Series>& all, const std::string& name) {
  for (const auto& s : all)
    if (s.name == name) return &s;
  return nullptr;
}

TEST(Series, AvailabilityAndLatencyPerSecond) {
  TimelineSnapshot snap;
  for (int i = 0; i < 10; ++i) snap.requests["http"].push_back(req(i * 0.1, i != 3, i + 1));
  for (int i = 0; i < 4; ++i) snap.requests["http"].push_back(req(1 + i * 0.25, false, 100));
  auto series = to_series(snap);
  const auto* avail = find(series, "availability");
  ASSERT_NE(avail, nullptr);
  EXPECT_EQ(avail->unit, "ratio");
  ASSERT_EQ(avail->points.size(), 2u);
  EXPECT_EQ(avail->points[0], std::make_pair(0.0, 0.9));
  EXPECT_EQ(avail->points[1], std::make_pair(1.0, 0.0));
  const auto* p95 = find(series, "latency_p95_ms");
  ASSERT_NE(p95, nullptr);
  EXPECT_EQ(p95->points[0].second, 10);  // nearest rank of 1..10
}

TEST(Series, StateSeriesAreStepsPerZoneWithAnEndPoint) {
  TimelineSnapshot snap;
  snap.taken = 10;
  EndpointsSample a = eps(1, 2), b = eps(3, 1), c = eps(4, 1);
  a.ready_by_zone = {{"z1", 1}, {"z2", 1}};
  b.ready_by_zone = {{"z1", 0}, {"z2", 1}};
  c.ready_by_zone = {{"z1", 0}, {"z2", 1}};
  snap.endpoints["eps"] = {a, b, c};
  auto series = to_series(snap);
  const auto* total = find(series, "ready_endpoints");
  ASSERT_NE(total, nullptr);
  EXPECT_EQ(total->points, (std::vector<std::pair<double, double>>{{1, 2}, {3, 1}, {10, 1}}));
  const auto* z1 = find(series, "ready_endpoints{zone=z1}");
  ASSERT_NE(z1, nullptr);
  EXPECT_EQ(z1->points, (std::vector<std::pair<double, double>>{{1, 1}, {3, 0}, {10, 0}}));
}

TEST(Series, ProbeLabelWhenSeveralProbesOfAKind) {
  TimelineSnapshot snap;
  snap.requests["a"].push_back(req(0, true));
  snap.requests["b"].push_back(req(0, true));
  ValueSample v;
  v.ok = true;
  v.value = 3;
  snap.values["errors"].push_back(v);
  auto series = to_series(snap);
  EXPECT_NE(find(series, "availability{probe=a}"), nullptr);
  EXPECT_NE(find(series, "availability{probe=b}"), nullptr);
  ASSERT_NE(find(series, "prometheus{probe=errors}"), nullptr);
  EXPECT_EQ(find(series, "prometheus{probe=errors}")->points.size(), 1u);
}

TEST(Percentile, NearestRank) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  EXPECT_EQ(percentile(v, 50), 50);
  EXPECT_EQ(percentile(v, 95), 95);
  EXPECT_EQ(percentile(v, 99), 99);
  EXPECT_EQ(percentile(v, 100), 100);
  std::vector<double> one{7};
  EXPECT_EQ(percentile(one, 99), 7);
}

ProgressState state(double t, const std::string& phase, int ok, int total) {
  ProgressState s;
  s.phase = phase;
  s.live.t = t;
  s.live.availability.push_back({"http", ok, total});
  return s;
}

TEST(ProgressLine, FormatsPhaseWaitAvailabilityAndPods) {
  auto s = state(12.34, "inject", 998, 1000);
  s.waiting_on = "until_ready app=web off zone-a";
  s.live.ready_pods = 5;
  s.live.desired_pods = 6;
  s.live.ready_endpoints = 5;
  EXPECT_EQ(format_progress(s),
            "[   12.3s] inject | waiting: until_ready app=web off zone-a | http 99.8% | pods 5/6 | "
            "endpoints 5");
  s.live.pods_on_faulted_zones = 2;
  EXPECT_EQ(format_progress(s),
            "[   12.3s] inject | waiting: until_ready app=web off zone-a | http 99.8% | pods 5/6 "
            "(2 on faulted zones) | endpoints 5");
  EXPECT_EQ(format_progress(state(0, "preflight", 0, 0)), "[    0.0s] preflight | http --");
  // Rounded down, never up into a rosier figure.
  EXPECT_EQ(format_progress(state(1, "observe", 9999, 10000)), "[    1.0s] observe | http 99.9%");
}

TEST(ProgressLine, RewritesOneLineOnATerminal) {
  std::ostringstream out;
  {
    ProgressLine line(out, /*tty=*/true);
    line.update(state(1, "inject", 1, 1));
    line.update(state(2, "inject", 1, 2));
  }
  EXPECT_EQ(out.str(),
            "\r[    1.0s] inject | http 100.0%\x1b[K\r[    2.0s] inject | http 50.0%\x1b[K\n");
}

TEST(ProgressLine, PrintsPlainLinesEveryIntervalAndOnPhaseChange) {
  std::ostringstream out;
  ProgressLine line(out, /*tty=*/false, 10);
  line.update(state(0, "preflight", 1, 1));
  line.update(state(5, "preflight", 1, 1));  // too soon
  line.update(state(6, "inject", 1, 1));     // phase changed
  line.update(state(15, "inject", 1, 1));    // too soon
  line.update(state(16.5, "inject", 1, 1));  // interval passed
  line.finish();
  EXPECT_EQ(out.str(),
            "[    0.0s] preflight | http 100.0%\n[    6.0s] inject | http 100.0%\n"
            "[   16.5s] inject | http 100.0%\n");
}

}  // namespace
}  // namespace faultline::observe
