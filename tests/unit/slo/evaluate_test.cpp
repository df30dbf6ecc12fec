// SLO maths on constructed timelines.
#include "runner/slo/evaluate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace faultline::slo {
namespace {

using observe::EndpointsSample;
using observe::PodsSample;
using observe::RequestSample;
using observe::TimelineSnapshot;
using ::testing::HasSubstr;

RequestSample req(double t, bool ok, double latency_ms = 5, int status = 200,
                  std::string error = "") {
  RequestSample s;
  s.t = t;
  s.ok = ok;
  s.latency_ms = latency_ms;
  s.status = ok ? status : (status == 200 ? 500 : status);
  s.error = ok ? "" : (error.empty() ? "status " + std::to_string(s.status) : error);
  return s;
}

// Samples every 0.1 s over [from, to), failing where fail(t).
std::vector<RequestSample> timetable(double from, double to,
                                     const std::function<bool(double)>& fail) {
  std::vector<RequestSample> v;
  for (int k = 0; from + k / 10.0 < to - 1e-9; ++k) {
    double t = from + k / 10.0;
    v.push_back(req(t, !fail(t)));
  }
  return v;
}

SloSpec availability(double min, std::optional<double> max_outage = std::nullopt) {
  SloSpec s;
  s.kind = SloKind::Availability;
  s.probe = "http";
  s.min_ratio = min;
  s.max_outage = max_outage;
  return s;
}

EvalWindow window(double from, double to) { return EvalWindow::steady(from, to); }

TEST(Availability, PassesWhenTheRatioMeetsTheMinimumExactly) {
  TimelineSnapshot snap;
  for (int i = 0; i < 1000; ++i) snap.requests["http"].push_back(req(i * 0.01, i % 200 != 0));
  auto r = evaluate(availability(0.995), snap, window(0, 10));
  EXPECT_TRUE(r.passed) << r.detail;
  EXPECT_DOUBLE_EQ(*r.measured, 0.995);
  EXPECT_EQ(r.measured_text, "99.5%");
  EXPECT_EQ(r.bound_text, ">= 99.5%");
  EXPECT_EQ(r.name, "availability(http)");
  EXPECT_EQ(r.kind, "availability");
}

// Behind a Service only the share of requests sent to a lost backend fails:
// failures interleave with successes, and the report names the span from the
// first failure to the last, which is the window the service was hurt.
TEST(Availability, ReportsTheSpanFromTheFirstToTheLastFailureWhenFailuresInterleave) {
  TimelineSnapshot snap;
  for (int i = 0; i < 300; ++i) {
    double t = i * 0.1;
    snap.requests["http"].push_back(req(t, !(t >= 10 - 1e-9 && t < 20 - 1e-9 && i % 3 == 0)));
  }
  auto r = evaluate(availability(0.99), snap, window(0, 30));
  EXPECT_FALSE(r.passed);
  EXPECT_THAT(r.detail, HasSubstr("267 of 300 requests succeeded"));
  EXPECT_THAT(r.detail, HasSubstr("33 failed between t=10.2s and t=19.8s (9.6s)"));
  EXPECT_THAT(r.detail, HasSubstr("longest outage 100ms"));
}

TEST(Availability, FailsJustBelowTheMinimumAndNeverRoundsUp) {
  TimelineSnapshot snap;
  for (int i = 0; i < 10000; ++i) snap.requests["http"].push_back(req(i * 0.001, i >= 51));
  auto r = evaluate(availability(0.995), snap, window(0, 10));
  EXPECT_FALSE(r.passed);
  EXPECT_DOUBLE_EQ(*r.measured, 0.9949);
  EXPECT_EQ(r.measured_text, "99.49%");
  EXPECT_THAT(r.detail, HasSubstr("9949 of 10000 requests succeeded"));
  EXPECT_THAT(r.detail, HasSubstr("errors: status 500 x51"));
}

TEST(Availability, FailsWhenLongestOutageExceedsMax) {
  TimelineSnapshot snap;
  // 1000 s of samples: 99.4% ratio is fine for a 99% SLO, the 6 s outage is not.
  snap.requests["http"] =
      timetable(0, 1000, [](double t) { return t >= 500 - 1e-9 && t < 506 - 1e-9; });
  auto r = evaluate(availability(0.99, 5), snap, window(0, 1000));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.measured_text, "99.4%, longest outage 6s");
  EXPECT_EQ(r.bound_text, ">= 99%, longest outage <= 5s");
  ASSERT_TRUE(r.deciding_span);
  EXPECT_NEAR(r.deciding_span->from, 500, 1e-6);
  EXPECT_NEAR(r.deciding_span->to, 506, 1e-6);
}

TEST(Availability, PassesWhenLongestOutageIsWithinMax) {
  TimelineSnapshot snap;
  snap.requests["http"] =
      timetable(0, 1000, [](double t) { return t >= 500 - 1e-9 && t < 505 - 1e-9; });
  auto r = evaluate(availability(0.99, 5), snap, window(0, 1000));
  EXPECT_TRUE(r.passed) << r.detail;
  EXPECT_EQ(r.measured_text, "99.5%, longest outage 5s");
}

TEST(Availability, OutageStillRunningAtTheEndLastsUntilTheWindowEnds) {
  TimelineSnapshot snap;
  snap.requests["http"] = timetable(0, 10, [](double t) { return t >= 8 - 1e-9; });
  auto r = evaluate(availability(0.5, 1), snap, window(0, 12));
  EXPECT_FALSE(r.passed);
  EXPECT_THAT(r.measured_text, HasSubstr("longest outage 4s"));
  EXPECT_NEAR(r.deciding_span->to, 12, 1e-9);
}

TEST(Availability, AGapBetweenFailuresIsPartOfTheOutage) {
  TimelineSnapshot snap;
  snap.requests["http"] = {req(0, true), req(5, false), req(8, false), req(8.5, true),
                           req(10, true)};
  auto r = evaluate(availability(0, 3), snap, window(0, 10));
  EXPECT_FALSE(r.passed);
  EXPECT_THAT(r.measured_text, HasSubstr("longest outage 3.5s"));
  EXPECT_THAT(r.detail, HasSubstr("largest gap between samples 5s"));
}

TEST(Availability, EmptyWindowFailsWithNoSamples) {
  TimelineSnapshot snap;
  snap.requests["http"] = {req(1, true), req(20, true)};
  auto r = evaluate(availability(0.9), snap, window(5, 10));
  EXPECT_FALSE(r.passed);
  EXPECT_FALSE(r.measured);
  EXPECT_EQ(r.measured_text, "no samples");
  EXPECT_EQ(r.detail, "no samples from probe http in [t=5.0s, t=10.0s]");
}

TEST(Availability, UnknownProbeFailsWithNoSamples) {
  TimelineSnapshot snap;
  auto r = evaluate(availability(0.9), snap, window(0, 10));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.measured_text, "no samples");
}

TEST(Availability, AllFailingIsZeroAndOneLongOutage) {
  TimelineSnapshot snap;
  snap.requests["http"] = timetable(0, 10, [](double) { return true; });
  auto r = evaluate(availability(0.5, 20), snap, window(0, 10));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(*r.measured, 0);
  EXPECT_EQ(r.measured_text, "0%, longest outage 10s");
}

TEST(Availability, CountsSamplesExactlyAtTheWindowBoundaries) {
  TimelineSnapshot snap;
  snap.requests["http"] = {req(0.999, true), req(1.0, false), req(1.5, true), req(2.0, false),
                           req(2.001, true)};
  auto r = evaluate(availability(0.5), snap, window(1, 2));
  EXPECT_NEAR(*r.measured, 1.0 / 3, 1e-12);
  EXPECT_THAT(r.detail, HasSubstr("1 of 3 requests succeeded"));
}

SloSpec latency(std::vector<std::pair<int, double>> bounds) {
  SloSpec s;
  s.kind = SloKind::Latency;
  s.probe = "http";
  s.percentiles = std::move(bounds);
  return s;
}

TEST(Latency, NearestRankPercentilesAgainstTheirBounds) {
  TimelineSnapshot snap;
  for (int i = 1; i <= 100; ++i) snap.requests["http"].push_back(req(i * 0.01, true, i));
  auto ok = evaluate(latency({{50, 0.1}, {95, 0.2}}), snap, window(0, 2));
  EXPECT_TRUE(ok.passed);
  EXPECT_EQ(*ok.measured, 95);
  EXPECT_EQ(ok.measured_text, "p50 50ms, p95 95ms");
  EXPECT_EQ(ok.bound_text, "p50 <= 100ms, p95 <= 200ms");
  auto bad = evaluate(latency({{50, 0.1}, {99, 0.05}}), snap, window(0, 2));
  EXPECT_FALSE(bad.passed);
  EXPECT_EQ(*bad.measured, 99);
  EXPECT_THAT(bad.detail, HasSubstr("p99 is over its bound"));
}

TEST(Latency, CountsTimeoutsButNotRefusedConnections) {
  TimelineSnapshot snap;
  for (int i = 0; i < 10; ++i) snap.requests["http"].push_back(req(i, true, 10));
  snap.requests["http"].push_back(req(10, false, 1000, 0, "timeout after 1s"));
  for (int i = 0; i < 50; ++i)
    snap.requests["http"].push_back(req(11 + i * 0.01, false, 0.1, 0, "Failed to connect"));
  auto r = evaluate(latency({{99, 0.5}}), snap, window(0, 20));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(*r.measured, 1000);
  EXPECT_THAT(r.detail, HasSubstr("11 requests"));
}

TEST(Latency, EmptyWindowFails) {
  TimelineSnapshot snap;
  auto r = evaluate(latency({{99, 0.5}}), snap, window(0, 20));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.measured_text, "no samples");
}

EndpointsSample eps(double t, int total, std::map<std::string, int> zones = {}) {
  EndpointsSample s;
  s.t = t;
  s.ready_total = total;
  s.ready_by_zone = std::move(zones);
  return s;
}

SloSpec ready_endpoints(int min, std::optional<int> per_zone = std::nullopt) {
  SloSpec s;
  s.kind = SloKind::ReadyEndpoints;
  s.probe = "eps";
  s.service = "web";
  s.min_ready = min;
  s.per_zone_min = per_zone;
  return s;
}

TEST(ReadyEndpoints, FailsWhenTheTotalDropsBelowTheMinimum) {
  TimelineSnapshot snap;
  snap.endpoints["eps"] = {eps(0, 6), eps(12, 3), eps(14, 1), eps(17, 4), eps(30, 6)};
  auto r = evaluate(ready_endpoints(2), snap, window(10, 40));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(*r.measured, 1);
  EXPECT_EQ(r.measured_text, "min 1");
  EXPECT_EQ(r.name, "ready_endpoints(web)");
  ASSERT_TRUE(r.deciding_span);
  EXPECT_EQ(r.deciding_span->from, 14);
  EXPECT_EQ(r.deciding_span->to, 17);
  EXPECT_EQ(r.detail, "1 ready in total from t=14.0s to t=17.0s");
}

TEST(ReadyEndpoints, TheStateAtTheWindowStartCounts) {
  TimelineSnapshot snap;
  snap.endpoints["eps"] = {eps(0, 6), eps(5, 1)};  // still 1 when the window opens
  auto r = evaluate(ready_endpoints(2), snap, window(10, 20));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.deciding_span->from, 10);
  EXPECT_EQ(r.deciding_span->to, 20);
  auto later = evaluate(ready_endpoints(1), snap, window(10, 20));
  EXPECT_TRUE(later.passed) << later.detail;
}

TEST(ReadyEndpoints, PerZoneMinimumIgnoresFaultedZones) {
  TimelineSnapshot snap;
  snap.endpoints["eps"] = {eps(0, 6, {{"a", 2}, {"b", 2}, {"c", 2}}),
                           eps(11, 4, {{"a", 0}, {"b", 2}, {"c", 2}}),
                           eps(13, 3, {{"a", 0}, {"b", 1}, {"c", 2}})};
  auto w = window(10, 20);
  w.faulted_zones = {"a"};
  auto pass = evaluate(ready_endpoints(2, 1), snap, w);
  EXPECT_TRUE(pass.passed) << pass.detail;
  EXPECT_EQ(pass.measured_text, "min 3 (b 1)");
  auto fail = evaluate(ready_endpoints(2, 2), snap, w);
  EXPECT_FALSE(fail.passed);
  EXPECT_EQ(fail.detail, "1 ready in zone b from t=13.0s to t=20.0s");
  w.faulted_zones.clear();
  auto unfaulted = evaluate(ready_endpoints(2, 1), snap, w);
  EXPECT_FALSE(unfaulted.passed);
  EXPECT_EQ(unfaulted.detail, "0 ready in zone a from t=11.0s to t=20.0s");
}

TEST(ReadyEndpoints, NoStateBeforeTheWindowEndFails) {
  TimelineSnapshot snap;
  snap.endpoints["eps"] = {eps(25, 6)};
  auto r = evaluate(ready_endpoints(2), snap, window(10, 20));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.measured_text, "no samples");
}

PodsSample pods(double t, int desired, std::map<std::string, int> ready,
                std::map<std::string, int> present = {}) {
  PodsSample s;
  s.t = t;
  s.desired = desired;
  s.ready_by_zone = ready;
  for (const auto& [z, n] : ready) s.ready += n;
  s.pods_by_zone = present.empty() ? ready : present;
  return s;
}

SloSpec replacement(double within, std::optional<int> skew = std::nullopt) {
  SloSpec s;
  s.kind = SloKind::Replacement;
  s.probe = "pods";
  s.within = within;
  s.max_skew = skew;
  return s;
}

EvalWindow fault_window(double fault, double end, std::vector<std::string> zones = {"a"}) {
  EvalWindow w;
  w.from = fault;
  w.to = end;
  w.fault_start = fault;
  w.faulted_zones = std::move(zones);
  return w;
}

TEST(Replacement, MeasuresFromTheFaultToTheFinalRecovery) {
  TimelineSnapshot snap;
  snap.pods["pods"] = {
      pods(0, 6, {{"a", 2}, {"b", 2}, {"c", 2}}),
      pods(10.2, 6, {{"a", 0}, {"b", 2}, {"c", 2}}),  // zone a drained
      pods(15, 6, {{"a", 0}, {"b", 3}, {"c", 3}}),    // replaced...
      pods(16, 6, {{"a", 0}, {"b", 2}, {"c", 3}}),    // ...one crashed
      pods(21.5, 6, {{"a", 0}, {"b", 3}, {"c", 3}}),  // replaced for good
  };
  snap.ready_events = {{15, "web-x", "n-b", "b"}, {21.5, "web-y", "n-b2", "b"}};
  auto r = evaluate(replacement(120, 1), snap, fault_window(10, 60));
  EXPECT_TRUE(r.passed) << r.detail;
  EXPECT_DOUBLE_EQ(*r.measured, 11.5);
  EXPECT_EQ(r.measured_text, "11.5s, skew 0");
  EXPECT_EQ(r.bound_text, "<= 2m, skew <= 1");
  EXPECT_EQ(r.deciding_span->from, 10);
  EXPECT_EQ(r.deciding_span->to, 21.5);
  EXPECT_EQ(r.detail,
            "6/6 Ready off a at t=21.5s (last Ready: web-y in b); spread at end: b 3, c 3");
}

TEST(Replacement, FailsWhenSlowerThanWithin) {
  TimelineSnapshot snap;
  snap.pods["pods"] = {pods(0, 2, {{"a", 1}, {"b", 1}}), pods(10.1, 2, {{"a", 0}, {"b", 1}}),
                       pods(16, 2, {{"a", 0}, {"b", 2}})};
  auto r = evaluate(replacement(5), snap, fault_window(10, 30));
  EXPECT_FALSE(r.passed);
  EXPECT_DOUBLE_EQ(*r.measured, 6);
}

TEST(Replacement, FailsWhileAPodIsLeftOnAFaultedZone) {
  TimelineSnapshot snap;
  // Enough Ready elsewhere, but one (unready) pod still sits on zone a.
  snap.pods["pods"] = {pods(0, 2, {{"a", 1}, {"b", 1}}),
                       pods(12, 2, {{"a", 0}, {"b", 2}}, {{"a", 1}, {"b", 2}})};
  auto r = evaluate(replacement(60), snap, fault_window(10, 30));
  EXPECT_FALSE(r.passed);
  EXPECT_FALSE(r.measured);
  EXPECT_EQ(r.measured_text, "not replaced");
  EXPECT_EQ(r.detail, "2/2 Ready off a, 1 still on faulted zones at t=30.0s");
}

TEST(Replacement, FailsWhenTheSpreadIsTooSkewed) {
  TimelineSnapshot snap;
  snap.pods["pods"] = {pods(0, 6, {{"a", 2}, {"b", 2}, {"c", 2}}),
                       pods(14, 6, {{"a", 0}, {"b", 5}, {"c", 1}})};
  auto r = evaluate(replacement(60, 1), snap, fault_window(10, 30));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.measured_text, "4s, skew 4");
  EXPECT_THAT(r.detail, HasSubstr("spread at end: b 5, c 1 (skew over the bound)"));
}

// Node affinity limits the workload to zones a-c; zone d exists but can
// never hold a replica, so its 0 is not skew (the scheduler does not count it).
TEST(Replacement, SkewCountsOnlyTheZonesTheWorkloadCanUse) {
  TimelineSnapshot snap;
  auto eligible = [](PodsSample s) {
    s.eligible_zones = {"a", "b", "c"};
    return s;
  };
  snap.pods["pods"] = {eligible(pods(0, 6, {{"a", 2}, {"b", 2}, {"c", 2}, {"d", 0}})),
                       eligible(pods(14, 6, {{"a", 0}, {"b", 3}, {"c", 3}, {"d", 0}}))};
  auto r = evaluate(replacement(60, 1), snap, fault_window(10, 30));
  EXPECT_TRUE(r.passed) << r.detail;
  EXPECT_EQ(r.measured_text, "4s, skew 0");
  EXPECT_THAT(
      r.detail,
      HasSubstr("spread at end: b 3, c 3 (not counted, the workload cannot be placed there: d)"));
  // Without eligibility known, every zone counts (the old judgement).
  snap.pods["pods"] = {pods(0, 6, {{"a", 2}, {"b", 2}, {"c", 2}, {"d", 0}}),
                       pods(14, 6, {{"a", 0}, {"b", 3}, {"c", 3}, {"d", 0}})};
  EXPECT_EQ(evaluate(replacement(60, 1), snap, fault_window(10, 30)).measured_text, "4s, skew 3");
}

TEST(Replacement, ZeroWhenTheFaultNeverDisturbedThePods) {
  TimelineSnapshot snap;
  snap.pods["pods"] = {pods(0, 4, {{"b", 2}, {"c", 2}})};
  auto r = evaluate(replacement(60), snap, fault_window(10, 30));
  EXPECT_TRUE(r.passed);
  EXPECT_EQ(*r.measured, 0);
}

TEST(Replacement, FailsWithoutAFault) {
  TimelineSnapshot snap;
  snap.pods["pods"] = {pods(0, 4, {{"b", 2}, {"c", 2}})};
  auto r = evaluate(replacement(60), snap, window(0, 30));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.detail, "no fault was injected, so there was nothing to replace");
}

TEST(Replacement, AnImpossibleBoundFails) {
  TimelineSnapshot snap;
  snap.pods["pods"] = {pods(0, 2, {{"a", 1}, {"b", 1}}), pods(10.5, 2, {{"a", 0}, {"b", 1}}),
                       pods(11, 2, {{"a", 0}, {"b", 2}})};
  auto r = evaluate(replacement(0.001), snap, fault_window(10, 30));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.bound_text, "<= 1ms");
  EXPECT_EQ(r.measured_text, "1s");
}

SloSpec pdb_slo() {
  SloSpec s;
  s.kind = SloKind::Pdb;
  s.probe = "pods";
  return s;
}

observe::PdbSample budget(double t, int desired_healthy, int disruptions_allowed = 0) {
  observe::PdbSample p;
  p.t = t;
  p.name = "web";
  p.ns = "shop";
  p.desired_healthy = desired_healthy;
  p.rule = "minAvailable " + std::to_string(desired_healthy);
  p.disruptions_allowed = disruptions_allowed;
  return p;
}

observe::EvictionEvent evicted(double t, const std::string& pod) {
  return {t, "shop/" + pod, "n1", "drain zone-a"};
}

TEST(Pdb, FailsWhenReadyPodsFallBelowMinAvailableDuringADrain) {
  TimelineSnapshot snap;
  snap.pdbs = {budget(0, 4)};
  snap.pods["pods"] = {pods(0, 6, {{"a", 6}}), pods(12, 6, {{"a", 4}}), pods(13, 6, {{"a", 3}}),
                       pods(20, 6, {{"a", 6}})};
  snap.disruptions = {{1, "drain zone-a", true, 11, 15}};
  auto r = evaluate(pdb_slo(), snap, window(10, 30));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.name, "pdb(web)");
  EXPECT_EQ(*r.measured, 3);
  EXPECT_EQ(r.bound_text, ">= 4 Ready (minAvailable 4)");
  EXPECT_EQ(r.detail,
            "3 Ready < 4 during drain zone-a at t=13.0s; no eviction by this run preceded it");
  EXPECT_EQ(r.deciding_span->from, 13);
  EXPECT_EQ(r.deciding_span->to, 15);
}

// The evidence rule (issue 14): an eviction admitted when more had been
// admitted since the budget's latest status than it allowed went past it.
// The first two fit the status of t=0 (2 allowed), the next two do not; the
// one after the status of t=11.5 (0 allowed) does not either; the one after
// the breach did not cause it.
TEST(Pdb, ABreachNamesTheEvictionsAdmittedPastTheBudgetsStatus) {
  TimelineSnapshot snap;
  snap.pdbs = {budget(0, 4, 2), budget(11.5, 4, 0)};
  snap.pods["pods"] = {pods(0, 6, {{"a", 6}}), pods(12, 6, {{"a", 3}}), pods(20, 6, {{"a", 6}})};
  snap.disruptions = {{1, "drain zone-a", true, 11, 15}};
  snap.evictions = {evicted(11.1, "web-1"), evicted(11.2, "web-2"), evicted(11.3, "web-3"),
                    evicted(11.4, "web-4"), evicted(11.6, "web-5"), evicted(13, "web-6")};
  auto r = evaluate(pdb_slo(), snap, window(10, 30));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.detail,
            "3 Ready < 4 during drain zone-a at t=12.0s; 3 evictions admitted past the budget's "
            "status (disruptionsAllowed 2 at t=0.0s): shop/web-3 at t=11.3s, shop/web-4 at "
            "t=11.4s, shop/web-5 at t=11.6s");
}

TEST(Pdb, MoreThanFiveEvictionsPastTheBudget_NamesFiveAndCountsTheRest) {
  TimelineSnapshot snap;
  snap.pdbs = {budget(10.5, 4, 0)};
  snap.pods["pods"] = {pods(0, 6, {{"a", 6}}), pods(12, 6, {{"a", 0}})};
  snap.disruptions = {{1, "drain zone-a", true, 11, 15}};
  for (int i = 0; i < 8; ++i)
    snap.evictions.push_back(evicted(11 + i / 10.0, "web-" + std::to_string(i)));
  auto r = evaluate(pdb_slo(), snap, window(10, 30));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.detail,
            "0 Ready < 4 during drain zone-a at t=12.0s; 8 evictions admitted past the budget's "
            "status (disruptionsAllowed 0 at t=10.5s): shop/web-0 at t=11.0s, shop/web-1 at "
            "t=11.1s, shop/web-2 at t=11.2s, shop/web-3 at t=11.3s, shop/web-4 at t=11.4s (+3 "
            "more)");
}

// Every eviction fit its status: the lead-up is named, from the last sample
// at or above the floor (t=11.5) to the breach; the one before is not.
TEST(Pdb, ABreachWithinTheBudgetNamesTheEvictionsOfItsLeadUp) {
  TimelineSnapshot snap;
  snap.pdbs = {budget(0, 4, 2), budget(11.3, 4, 1)};
  snap.pods["pods"] = {pods(0, 6, {{"a", 6}}), pods(11.5, 6, {{"a", 5}}),
                       pods(12.5, 6, {{"a", 3}})};
  snap.disruptions = {{1, "drain zone-a", true, 11, 15}};
  snap.evictions = {evicted(11.2, "web-a"), evicted(12.1, "web-b")};
  auto r = evaluate(pdb_slo(), snap, window(10, 30));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.detail,
            "3 Ready < 4 during drain zone-a at t=12.5s; evictions before it: shop/web-b at "
            "t=12.1s");
}

// Ready met the budget again after the drain's evictions: the loss after was
// not ours.
TEST(Pdb, ABreachAfterReadyRecoveredFromTheEvictions_SaysNoneSince) {
  TimelineSnapshot snap;
  snap.pdbs = {budget(0, 4, 2)};
  snap.pods["pods"] = {pods(0, 6, {{"a", 6}}), pods(11.5, 6, {{"a", 5}}), pods(12, 6, {{"a", 6}}),
                       pods(14, 6, {{"a", 2}})};
  snap.disruptions = {{1, "drain zone-a", true, 11, 15}};
  snap.evictions = {evicted(11.2, "web-a")};
  auto r = evaluate(pdb_slo(), snap, window(10, 30));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.detail,
            "2 Ready < 4 during drain zone-a at t=14.0s; no eviction by this run since Ready last "
            "met the budget at t=12.0s");
}

// A zone drain evicts every namespace's pods; another namespace's evictions
// are neither against this budget nor its lead-up.
TEST(Pdb, EvictionsInOtherNamespacesAreNoEvidence) {
  TimelineSnapshot snap;
  snap.pdbs = {budget(0, 4, 0)};
  snap.pods["pods"] = {pods(0, 6, {{"a", 6}}), pods(12, 6, {{"a", 3}})};
  snap.disruptions = {{1, "drain zone-a", true, 11, 15}};
  snap.evictions = {{11.1, "kube-system/dns-1", "n1", "drain zone-a"},
                    {11.2, "shopping/web-1", "n1", "drain zone-a"}};
  auto r = evaluate(pdb_slo(), snap, window(10, 30));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.detail,
            "3 Ready < 4 during drain zone-a at t=12.0s; no eviction by this run preceded it");
}

TEST(Pdb, APassNeverMentionsEvictions) {
  TimelineSnapshot snap;
  snap.pdbs = {budget(0, 4, 0)};  // a stale status: it would judge these past the budget
  snap.pods["pods"] = {pods(0, 6, {{"a", 6}}), pods(12, 6, {{"a", 4}})};
  snap.disruptions = {{1, "drain zone-a", true, 11, 15}};
  snap.evictions = {evicted(11.1, "web-1"), evicted(11.2, "web-2")};
  auto r = evaluate(pdb_slo(), snap, window(10, 30));
  EXPECT_TRUE(r.passed) << r.detail;
  EXPECT_EQ(r.detail, "held through 1 voluntary disruption");
}

TEST(Pdb, DropsDuringADeliberateViolationDoNotCount) {
  TimelineSnapshot snap;
  snap.pdbs = {budget(0, 4)};
  snap.pods["pods"] = {pods(0, 6, {{"a", 6}}), pods(12, 6, {{"a", 4}}), pods(21, 6, {{"a", 2}}),
                       pods(25, 6, {{"a", 6}})};
  snap.disruptions = {{1, "drain zone-a", true, 11, 15}, {2, "violate_pdb web", false, 20, 22}};
  auto r = evaluate(pdb_slo(), snap, window(10, 30));
  EXPECT_TRUE(r.passed) << r.detail;
  EXPECT_EQ(*r.measured, 4);
  EXPECT_EQ(r.detail,
            "held through 1 voluntary disruption; deliberate violations (judged by availability): "
            "violate_pdb web");
}

TEST(Pdb, NotExercisedWhenNoVoluntaryDisruptionHappened_DoesNotFailTheRun) {
  TimelineSnapshot snap;
  snap.pdbs = {budget(0, 4)};
  snap.pods["pods"] = {pods(0, 6, {{"a", 6}})};
  auto r = evaluate(pdb_slo(), snap, window(10, 30));
  EXPECT_TRUE(r.passed);
  EXPECT_FALSE(r.measured);
  EXPECT_EQ(r.measured_text, "not exercised");
  EXPECT_EQ(r.detail.rfind("not exercised: no voluntary disruption", 0), 0u) << r.detail;
}

TEST(Pdb, BoundNamesTheBudgetsOwnRule_MaxUnavailable) {
  TimelineSnapshot snap;
  snap.pdbs = {budget(0, 5)};
  snap.pdbs[0].rule = "maxUnavailable 1";
  snap.pods["pods"] = {pods(0, 6, {{"a", 6}}), pods(12, 6, {{"a", 5}})};
  snap.disruptions = {{1, "drain zone-a", true, 11, 15}};
  auto r = evaluate(pdb_slo(), snap, window(10, 30));
  EXPECT_TRUE(r.passed) << r.detail;
  EXPECT_EQ(r.bound_text, ">= 5 Ready (maxUnavailable 1)");
}

TEST(Pdb, SeveralBudgetsNeedAName) {
  TimelineSnapshot snap;
  snap.pdbs = {budget(0, 4)};
  snap.pdbs.push_back(budget(0, 1));
  snap.pdbs.back().name = "other";
  auto r = evaluate(pdb_slo(), snap, window(10, 30));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.detail, "several PodDisruptionBudgets (other, web); name one with name:");
}

observe::ValueSample value(double t, double v, bool ok = true) {
  observe::ValueSample s;
  s.t = t;
  s.value = v;
  s.ok = ok;
  if (!ok) s.error = "empty result (no series matched)";
  return s;
}

SloSpec prom(std::optional<double> max, std::optional<double> min, bool at_end = false) {
  SloSpec s;
  s.kind = SloKind::Prometheus;
  s.probe = "errors";
  s.max = max;
  s.min = min;
  s.at_end = at_end;
  return s;
}

TEST(PrometheusSlo, EverySampleMustBeWithinTheBound) {
  TimelineSnapshot snap;
  snap.values["errors"] = {value(1, 0.1), value(6, 0.7), value(11, 0.9), value(16, 0.2)};
  auto r = evaluate(prom(0.5, std::nullopt), snap, window(0, 20));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(*r.measured, 0.7);
  EXPECT_EQ(r.detail, "value 0.7 at t=6.0s");
  EXPECT_EQ(r.deciding_span->from, 6);
  EXPECT_EQ(r.bound_text, "<= 0.5 at every sample");
}

TEST(PrometheusSlo, AtEndJudgesTheLastValue) {
  TimelineSnapshot snap;
  snap.values["errors"] = {value(1, 0.1), value(6, 0.7), value(16, 0.2), value(18, 0, false)};
  auto r = evaluate(prom(0.5, std::nullopt, true), snap, window(0, 20));
  EXPECT_TRUE(r.passed) << r.detail;
  EXPECT_EQ(*r.measured, 0.2);
  auto min = evaluate(prom(std::nullopt, 0.5, true), snap, window(0, 20));
  EXPECT_FALSE(min.passed);
}

TEST(PrometheusSlo, OnlyFailedQueriesFail) {
  TimelineSnapshot snap;
  snap.values["errors"] = {value(1, 0, false), value(6, 0, false)};
  auto r = evaluate(prom(1, std::nullopt), snap, window(0, 20));
  EXPECT_FALSE(r.passed);
  EXPECT_THAT(r.detail, HasSubstr("2 queries failed; last: empty result (no series matched)"));
}

TEST(SteadyState, RefusesWhenAProbeSloFailsDuringTheWarmUp) {
  TimelineSnapshot snap;
  snap.requests["http"] = timetable(0, 10, [](double t) { return t > 4.95 && t < 5.45; });
  snap.pods["pods"] = {pods(0, 6, {{"a", 6}})};
  std::vector<SloSpec> specs = {availability(0.995), replacement(60)};
  auto st = steady_state(specs, snap, 0, 10);
  EXPECT_FALSE(st.holds);
  ASSERT_EQ(st.results.size(), 1u);  // replacement is not a steady-state SLO
  EXPECT_EQ(st.failures(), "availability(http) 95% (>= 99.5%)");
  auto later = steady_state(specs, snap, 6, 10);
  EXPECT_TRUE(later.holds);
  EXPECT_EQ(later.failures(), "");
}

TEST(EvalWindowTest, VerifyRunsFromTheFaultWithTheFaultedZones) {
  TimelineSnapshot snap;
  snap.fault_start = 12;
  snap.faulted_zones = {"a"};
  auto w = EvalWindow::verify(snap, 90);
  EXPECT_EQ(w.from, 12);
  EXPECT_EQ(w.to, 90);
  EXPECT_EQ(w.fault_start, 12);
  EXPECT_EQ(w.faulted_zones, std::vector<std::string>{"a"});
}

TEST(PercentText, RoundsDown) {
  EXPECT_EQ(percent_text(1), "100%");
  EXPECT_EQ(percent_text(0.995), "99.5%");
  EXPECT_EQ(percent_text(0.994999), "99.499%");
  EXPECT_EQ(percent_text(0), "0%");
}

}  // namespace
}  // namespace faultline::slo

namespace faultline::slo {
namespace {

// A probe with from: (issue 13) is judged per vantage; a vantage in a zone
// the run faulted is expected to go dark: shown, not judged.
TEST(VantageSlo, AVantageInAFaultedZoneIsShownNotJudgedTheOthersAre) {
  TimelineSnapshot snap;
  snap.requests["web@zone-a"] = timetable(0, 10, [](double t) { return t >= 5; });
  snap.requests["web@zone-b"] = timetable(0, 10, [](double t) { return t >= 9; });
  EvalWindow w = window(0, 10);
  w.faulted_zones = {"zone-a"};
  SloSpec a = availability(0.99);
  a.probe = "web@zone-a";
  auto ra = evaluate(a, snap, w);
  EXPECT_TRUE(ra.passed);
  EXPECT_THAT(ra.detail,
              HasSubstr("not judged: the vantage's own zone zone-a was faulted (outside"));
  EXPECT_EQ(ra.measured_text, "50%");
  EXPECT_EQ(ra.name, "availability(web@zone-a)");
  SloSpec b = availability(0.99);
  b.probe = "web@zone-b";
  auto rb = evaluate(b, snap, w);
  EXPECT_FALSE(rb.passed) << rb.detail;
  EXPECT_THAT(rb.detail, ::testing::Not(HasSubstr("not judged")));
  // Before any fault (the steady state) the same vantage is judged.
  EXPECT_FALSE(evaluate(a, snap, window(0, 10)).passed);
}

}  // namespace
}  // namespace faultline::slo
