// The fault simulation and the prediction on the local cluster's shape:
// 3 zones × 3 nodes of 8 CPU.
#include <gtest/gtest.h>

#include <fstream>

#include "runner/plan/predict.h"
#include "runner/plan/script_faults.h"
#include "tests/test_paths.h"
#include "tests/unit/plan/fixtures.h"

namespace faultline::plan::testing {
namespace {

Snapshot three_zones(int64_t milli_cpu = 8000) {
  Snapshot s;
  for (const char* z : {"zone-a", "zone-b", "zone-c"})
    for (int i = 1; i <= 3; ++i)
      s.nodes.push_back(make_node(std::string(z) + "-" + std::to_string(i), z, milli_cpu));
  return s;
}

// `per_node` replicas of app=<app> on every node listed, each asking `cpu`.
void deploy(Snapshot& s, const std::string& app, const std::vector<std::string>& nodes,
            int64_t cpu) {
  int i = 0;
  for (const auto& n : nodes) {
    Pod p = make_pod(app + "-" + std::to_string(i++), n, {{"app", app}}, cpu);
    p.ns = "shop";
    p.edit_spec().owner_name = app + "-rs";
    p.time_to_ready = 2;
    s.pods.push_back(p);
  }
  s.replicaset_owner["shop/" + app + "-rs"] = app;
}

Pdb checkout_pdb(int min_available, int disruptions_allowed) {
  Pdb pdb;
  pdb.ns = "shop";
  pdb.name = "checkout";
  pdb.selector = {{"matchLabels", {{"app", "checkout"}}}};
  pdb.min_available = min_available;
  pdb.disruptions_allowed = disruptions_allowed;
  return pdb;
}

Scenario outage(const std::string& app, FaultKind kind = FaultKind::FailZone) {
  Scenario sc;
  sc.target_ns = "shop";
  sc.target_selector = "app=" + app;
  sc.allowed_namespaces = {"shop"};
  sc.faults = {{FaultKind::Cordon, "zone-a"}};
  if (kind != FaultKind::Cordon) sc.faults.push_back({kind, "zone-a"});
  return sc;
}

slo::SloSpec ready_endpoints(int min) {
  slo::SloSpec s;
  s.kind = slo::SloKind::ReadyEndpoints;
  s.service = "checkout";
  s.min_ready = min;
  return s;
}

slo::SloSpec replacement(double within, std::optional<int> max_skew = std::nullopt) {
  slo::SloSpec s;
  s.kind = slo::SloKind::Replacement;
  s.within = within;
  s.max_skew = max_skew;
  return s;
}

chaos::Guards guards() {
  chaos::Guards g;
  g.namespaces = {"shop"};
  return g;
}

TEST(Simulate, ZoneOutageOfAnAppThatFitsPlacesEveryPodAndPredictsPass) {
  Snapshot s = three_zones();
  deploy(s, "checkout", {"zone-a-1", "zone-a-2", "zone-b-1", "zone-b-2", "zone-c-1", "zone-c-2"},
         50);
  Prediction p = predict(s, outage("checkout"), {ready_endpoints(2), replacement(60, 1)}, guards());
  EXPECT_EQ(p.outcome.faulted_nodes.size(), 3u);
  ASSERT_EQ(p.outcome.displaced.size(), 2u);
  for (const auto& d : p.outcome.displaced) EXPECT_NE(d.zone, "zone-a") << d.pod;
  EXPECT_EQ(p.outcome.target_pending, 0);
  EXPECT_EQ(p.ready_endpoints_now, 6);
  EXPECT_EQ(p.min_ready_endpoints, 4);
  EXPECT_EQ(p.min_ready_per_zone, (std::map<std::string, int>{{"zone-b", 2}, {"zone-c", 2}}));
  EXPECT_EQ(p.skew_after, 0);
  EXPECT_EQ(p.replacement_lower_bound, 2.0);
  ASSERT_EQ(p.slos.size(), 2u);
  EXPECT_EQ(p.slos[0].verdict, "pass") << p.slos[0].why;
  EXPECT_EQ(p.slos[1].verdict, "pass") << p.slos[1].why;
  EXPECT_EQ(overall(p), "pass");
}

TEST(Simulate, SurvivingZonesShortOfCpuLeaveExactlyTheDisplacedPodsPending) {
  Snapshot s = three_zones();
  std::vector<std::string> all;
  for (const auto& n : s.nodes) all.push_back(n.name);
  deploy(s, "big", all, 5000);  // one 5-CPU pod per 8-CPU node
  Prediction p = predict(s, outage("big"), {replacement(60)}, guards());
  ASSERT_EQ(p.outcome.displaced.size(), 3u);
  EXPECT_EQ(p.outcome.target_pending, 3);
  for (const auto& d : p.outcome.displaced)
    EXPECT_EQ(d.pending_reason,
              "0/9 nodes are available: 3 node(s) were unschedulable, 6 Insufficient cpu.");
  EXPECT_EQ(p.slos[0].verdict, "fail");
  EXPECT_NE(p.slos[0].why.find("3 target pod(s) stay Pending"), std::string::npos) << p.slos[0].why;
}

TEST(Simulate, SpreadDoNotScheduleOnUnevenZonesLeavesTheSchedulersPending) {
  // zone-c has a single node with room for one 5-CPU pod: with maxSkew 1 over
  // zones (nodeTaintsPolicy Honor, so failed zone-a is no domain), zone-b may
  // take only one more than zone-c holds.
  Snapshot s = three_zones();
  s.nodes.erase(s.nodes.begin() + 7, s.nodes.end());  // zone-c: only zone-c-1
  deploy(s, "web", {"zone-a-1", "zone-a-2", "zone-a-3", "zone-b-1", "zone-c-1"}, 5000);
  for (auto& pod : s.pods) {
    pod.edit_spec().spread = {
        spread("topology.kubernetes.io/zone", 1, {{"matchLabels", {{"app", "web"}}}})};
    pod.edit_spec().spread[0].node_taints_honor = true;
  }
  Prediction p = predict(s, outage("web"), {replacement(60, 1)}, guards());
  // zone-b: 1 now, zone-c: 1 (full). Three displaced: zone-b takes one (2-1 = 1), then no more:
  // zone-b-3 fails the spread, zone-b-1/2 and zone-c-1 are full.
  EXPECT_EQ(p.outcome.target_pending, 2);
  int placed_b = 0;
  for (const auto& d : p.outcome.displaced) {
    if (d.zone == "zone-b") ++placed_b;
    if (d.node.empty()) {
      EXPECT_EQ(d.pending_reason,
                "0/7 nodes are available: 1 node(s) didn't match pod topology spread constraints, "
                "3 Insufficient cpu, "
                "3 node(s) were unschedulable.");
    }
  }
  EXPECT_EQ(placed_b, 1);
}

TEST(Simulate, AStatefulSetPodBoundToAZoneAVolumeCannotMove) {
  Snapshot s = three_zones();
  Pod db = make_pod("db-0", "zone-a-1", {{"app", "db"}}, 100);
  db.ns = "shop";
  db.edit_spec().owner_kind = "StatefulSet";
  db.edit_spec().owner_name = "db";
  db.edit_spec().claims = {"data-db-0"};
  s.pods.push_back(db);
  s.claims = {{"shop", "data-db-0", "pv-db-0"}};
  s.volumes = {{"pv-db-0",
                json::object(),
                {{"nodeSelectorTerms",
                  {{{"matchExpressions",
                     {{{"key", "topology.kubernetes.io/zone"},
                       {"operator", "In"},
                       {"values", {"zone-a"}}}}}}}}}}};
  Prediction p = predict(s, outage("db"), {replacement(60)}, guards());
  ASSERT_EQ(p.outcome.displaced.size(), 1u);
  EXPECT_EQ(p.outcome.displaced[0].workload, "StatefulSet shop/db");
  EXPECT_EQ(p.outcome.displaced[0].pending_reason,
            "0/9 nodes are available: 3 node(s) were unschedulable, 6 node(s) didn't match "
            "PersistentVolume's node "
            "affinity.");
}

TEST(Simulate, DrainPacedByThePdbGivesWavesTimesTimeToReady) {
  Snapshot s = three_zones();
  deploy(s, "checkout", {"zone-a-1", "zone-a-2", "zone-b-1", "zone-b-2", "zone-c-1", "zone-c-2"},
         50);
  s.pdbs = {checkout_pdb(5, 1)};
  slo::SloSpec pdb_slo;
  pdb_slo.kind = slo::SloKind::Pdb;
  pdb_slo.pdb = "checkout";
  Prediction p =
      predict(s, outage("checkout", FaultKind::Drain), {ready_endpoints(5), pdb_slo}, guards());
  ASSERT_EQ(p.pdbs.size(), 1u);
  EXPECT_EQ(p.pdbs[0].desired_healthy, 5);
  EXPECT_EQ(p.pdbs[0].drain_waves, 2);
  EXPECT_EQ(p.drain_lower_bound, 4.0);  // ceil(2 ÷ 1) × 2 s
  EXPECT_EQ(p.min_ready_endpoints, 5);  // one eviction at a time
  EXPECT_EQ(p.slos[0].verdict, "pass");
  EXPECT_EQ(p.slos[1].verdict, "pass") << p.slos[1].why;
}

TEST(Simulate, ViolatePdbSaysByHowMuch) {
  Snapshot s = three_zones();
  deploy(s, "checkout", {"zone-a-1", "zone-a-2", "zone-b-1", "zone-b-2", "zone-c-1", "zone-c-2"},
         50);
  s.pdbs = {checkout_pdb(4, 2)};
  Scenario sc = outage("checkout");
  sc.faults = {{FaultKind::ViolatePdb, "", 1, "checkout", 1}};
  Prediction p = predict(s, sc, {ready_endpoints(2)}, guards());
  EXPECT_EQ(p.outcome.displaced.size(), 3u);  // 6 − 4 + 1
  EXPECT_EQ(p.pdbs[0].min_healthy, 3);
  EXPECT_EQ(p.pdbs[0].violated_by, 1);
  EXPECT_EQ(p.min_ready_endpoints, 3);
}

TEST(Simulate, GuardRefusalsArePredictedAndNeverPass) {
  Snapshot s = three_zones();
  deploy(s, "checkout", {"zone-a-1", "zone-b-1"}, 50);
  chaos::Guards g = guards();
  g.max_node_fraction = 0.2;  // 3 of 9 nodes is 33%
  Prediction p = predict(s, outage("checkout"), {ready_endpoints(1)}, g);
  ASSERT_EQ(p.guard_refusals.size(), 1u);
  EXPECT_NE(p.guard_refusals[0].find("guard max_node_fraction: 3 of 9 nodes (33%)"),
            std::string::npos);
  EXPECT_EQ(p.slos[0].verdict, "unknown");
  EXPECT_EQ(overall(p), "fail");
}

TEST(Simulate, CollateralEvictionsOutsideTheGuardsNamespacesAreWarned) {
  Snapshot s = three_zones();
  deploy(s, "checkout", {"zone-a-1", "zone-b-1"}, 50);
  Pod other = make_pod("cache-0", "zone-a-2", {{"app", "cache"}});
  other.ns = "other";
  s.pods.push_back(other);
  Prediction p = predict(s, outage("checkout"), {}, guards());
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(p.warnings[0],
            "collateral: fail_zone's taint evicts 1 pod(s) in namespace other (not in "
            "guards.namespaces)");
}

TEST(ScriptFaults, ReadsTheStdlibScriptsCalls) {
  auto f = script_faults(
      "-- chaos.drain_zone(zone) in a comment\nchaos.cordon_zone(zone)\nchaos.fail_zone(zone)\n",
      {{"zone", "zone-b"}}, "zone-a", "checkout");
  ASSERT_EQ(f.faults.size(), 2u);
  EXPECT_EQ(f.faults[0].kind, FaultKind::Cordon);
  EXPECT_EQ(f.faults[1].kind, FaultKind::FailZone);
  EXPECT_EQ(f.faults[1].zone, "zone-b");
  auto v = script_faults("chaos.violate_pdb{ pdb = pdb, by = params.by or 1 }", json::object(),
                         "zone-a", "checkout");
  ASSERT_EQ(v.faults.size(), 1u);
  EXPECT_EQ(v.faults[0].pdb, "checkout");
  auto spaced = script_faults(
      "local x = mychaos.fail_zone(z)\nchaos.drain_zone (zone, { timeout = '1s' }) -- "
      "chaos.fail_zone(z)",
      json::object(), "zone-a", "checkout");
  ASSERT_EQ(spaced.faults.size(), 1u);
  EXPECT_EQ(spaced.faults[0].kind, FaultKind::Drain);
  EXPECT_EQ(spaced.faults[0].zone, "zone-a");
  auto none = script_faults("log.info('hi')", json::object(), "zone-a", "checkout");
  EXPECT_TRUE(none.faults.empty());
  EXPECT_EQ(none.notes, std::vector<std::string>{"the script makes no fault the plan can model"});
}

TEST(ScriptFaults, TheShippedScriptsFaultsAreRecognised) {
  auto read = [](const std::string& name) {
    std::ifstream in(std::string(faultline::test_paths::source_dir()) + "/lua-scripts/" + name);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  auto kinds = [&](const std::string& name) {
    std::vector<FaultKind> out;
    for (const auto& f : script_faults(read(name), json::object(), "zone-a", "checkout").faults)
      out.push_back(f.kind);
    return out;
  };
  using K = FaultKind;
  EXPECT_EQ(kinds("zone_outage.lua"), (std::vector<K>{K::Cordon, K::FailZone}));
  EXPECT_EQ(kinds("zone_drain.lua"), (std::vector<K>{K::Drain}));
  EXPECT_EQ(kinds("pod_kill.lua"), (std::vector<K>{K::KillPods}));
  EXPECT_EQ(kinds("pdb_violation.lua"), (std::vector<K>{K::ViolatePdb}));
  EXPECT_EQ(kinds("rolling_failover.lua"), (std::vector<K>{K::Cordon, K::FailZone}));
}

}  // namespace
}  // namespace faultline::plan::testing
