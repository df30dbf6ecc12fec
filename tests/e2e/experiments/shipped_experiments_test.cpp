// Every experiment shipped in experiments/ runs against the demo app on the
// local control plane (real kube-apiserver, controller-manager, scheduler,
// kwok nodes in three zones), passes, writes its four reports, and leaves the
// nodes exactly as they were: nothing cordoned or tainted, no journal, no lock.
#include <gtest/gtest.h>

#include <set>

#include "tests/e2e/cluster_env.h"
#include "tests/e2e/experiments/experiment_env.h"

namespace faultline::testing {
namespace {

struct RunResult {
  int code = -1;
  std::string output;
  json report;
};

class ShippedExperiments : public ::testing::Test {
 protected:
  // Runs experiments/<file> on a freshly balanced demo app and checks what
  // every run must leave behind; the test checks what is particular to it.
  RunResult run_shipped(const std::string& file) {
    fresh_demo();
    before_ = snapshot_nodes();
    RunResult r;
    std::string out = scratch_.output_dir();
    r.code = faultline("run " + source_dir() + "/experiments/" + file + " --output-dir " + out,
                       &r.output);
    EXPECT_EQ(r.code, 0) << r.output;
    expect_cluster_as_before(before_);
    expect_reports_written(out);
    r.report = read_report(out);
    EXPECT_EQ(r.report.value("result", ""), "passed") << r.report.value("error", "");
    EXPECT_EQ(r.report.value("exit_code", -1), 0);
    EXPECT_EQ(r.report["rollback"].value("complete", false), true) << r.report["rollback"].dump();
    EXPECT_FALSE(r.report.value("slos", json::array()).empty()) << "no SLO was judged";
    for (const auto& s : r.report.value("slos", json::array()))
      EXPECT_TRUE(s.value("passed", false)) << s.dump(2);
    return r;
  }

  // action ("cordon_node", "evict_pod", ...) -> how many faults, and their statuses.
  static std::map<std::string, int> count_faults(const json& report,
                                                 std::set<std::string>* statuses = nullptr) {
    std::map<std::string, int> out;
    for (const auto& f : report.value("faults", json::array())) {
      ++out[f.value("action", "")];
      if (statuses) statuses->insert(f.value("action", "") + ":" + f.value("status", ""));
    }
    return out;
  }

  static int total_ready(const std::map<std::string, int>& per_zone) {
    int n = 0;
    for (const auto& [zone, count] : per_zone) n += count;
    return n;
  }

  Scratch scratch_;
  NodeSnapshot before_;
};

TEST_F(ShippedExperiments, ZoneOutage_ReplacesEveryReplicaOffTheZoneSpreadEvenlyAndRollsBack) {
  RunResult r = run_shipped("zone-outage.yaml");

  const json* replacement = find_slo(r.report, "replacement");
  ASSERT_NE(replacement, nullptr) << r.report.value("slos", json::array()).dump(2);
  EXPECT_TRUE(replacement->value("passed", false));
  ASSERT_TRUE((*replacement)["measured"].is_number()) << replacement->dump(2);
  double took = (*replacement)["measured"].get<double>();
  EXPECT_GT(took, 0.0);
  EXPECT_LE(took, 60.0);
  EXPECT_EQ(r.report.value("replacement_seconds", -1.0), took);
  EXPECT_NE(replacement->value("detail", "").find("spread at end: zone-b 3, zone-c 3"),
            std::string::npos)
      << replacement->value("detail", "");

  // The pods probe's timeline: at the end, zone-a empty, 3 + 3 elsewhere.
  EXPECT_EQ(last_point(r.report, "ready_pods{zone=zone-a}"), 0.0);
  EXPECT_EQ(last_point(r.report, "ready_pods{zone=zone-b}"), 3.0);
  EXPECT_EQ(last_point(r.report, "ready_pods{zone=zone-c}"), 3.0);

  std::set<std::string> statuses;
  auto faults = count_faults(r.report, &statuses);
  EXPECT_EQ(faults["cordon_node"], 3);
  EXPECT_EQ(faults["taint_node"], 3);
  EXPECT_EQ(statuses, (std::set<std::string>{"cordon_node:rolled_back", "taint_node:rolled_back"}));

  // After the rollback the service is whole: 6 Ready, none back in zone-a yet.
  auto per_zone = ready_pods_per_zone();
  EXPECT_EQ(total_ready(per_zone), 6) << kubectl("get pods -n shop -o wide");
  EXPECT_EQ(per_zone["zone-a"], 0);
}

TEST_F(ShippedExperiments, ZoneDrain_EvictsTheZoneWithinThePdbAndRollsBack) {
  RunResult r = run_shipped("zone-drain.yaml");

  const json* pdb = find_slo(r.report, "pdb");
  ASSERT_NE(pdb, nullptr);
  EXPECT_TRUE(pdb->value("passed", false)) << pdb->dump(2);
  std::set<std::string> statuses;
  auto faults = count_faults(r.report, &statuses);
  EXPECT_EQ(faults["cordon_node"], 3);
  EXPECT_EQ(faults["evict_pod"], 2);  // the two replicas zone-a held
  EXPECT_EQ(statuses,
            (std::set<std::string>{"cordon_node:rolled_back", "evict_pod:not_reversible"}));
  EXPECT_EQ(total_ready(ready_pods_per_zone()), 6) << kubectl("get pods -n shop -o wide");
}

TEST_F(ShippedExperiments, PodKill_ReplicaSetReplacesTheKilledPods) {
  RunResult r = run_shipped("pod-kill.yaml");

  auto faults = count_faults(r.report);
  EXPECT_EQ(faults["delete_pod"], 2);
  EXPECT_EQ(faults.size(), 1u) << r.report["faults"].dump(2);
  const json* replacement = find_slo(r.report, "replacement");
  ASSERT_NE(replacement, nullptr);
  EXPECT_TRUE((*replacement)["measured"].is_number()) << replacement->dump(2);
  EXPECT_EQ(total_ready(ready_pods_per_zone()), 6) << kubectl("get pods -n shop -o wide");
}

TEST_F(ShippedExperiments, PdbViolation_BreaksTheBudgetByOneAndTheServiceKeepsEndpoints) {
  RunResult r = run_shipped("pdb-violation.yaml");

  // minAvailable 4 of 6, broken by 1: three pods deleted at once.
  auto faults = count_faults(r.report);
  EXPECT_EQ(faults["delete_pod"], 3);
  const json* endpoints = find_slo(r.report, "ready_endpoints");
  ASSERT_NE(endpoints, nullptr);
  ASSERT_TRUE((*endpoints)["measured"].is_number()) << endpoints->dump(2);
  double lowest = (*endpoints)["measured"].get<double>();
  EXPECT_LT(lowest, 4.0) << "the budget was not actually broken: " << endpoints->dump(2);
  EXPECT_GE(lowest, 2.0);
  EXPECT_EQ(total_ready(ready_pods_per_zone()), 6) << kubectl("get pods -n shop -o wide");
}

TEST_F(ShippedExperiments, RollingFailover_FailsEachZoneInTurnAndRestoresThemAll) {
  RunResult r = run_shipped("rolling-failover.yaml");

  std::set<std::string> statuses;
  auto faults = count_faults(r.report, &statuses);
  EXPECT_EQ(faults["cordon_node"], 9);
  EXPECT_EQ(faults["taint_node"], 9);
  EXPECT_EQ(statuses, (std::set<std::string>{"cordon_node:rolled_back", "taint_node:rolled_back"}));
  std::vector<std::string> marks;
  for (const auto& m : r.report.value("markers", json::array())) {
    std::string label = m.value("label", "");
    if (label.find(" down") != std::string::npos || label.find(" restored") != std::string::npos)
      marks.push_back(label);
  }
  EXPECT_EQ(marks, (std::vector<std::string>{"zone-a down", "zone-a restored", "zone-b down",
                                             "zone-b restored", "zone-c down", "zone-c restored"}));
  EXPECT_EQ(total_ready(ready_pods_per_zone()), 6) << kubectl("get pods -n shop -o wide");
}

}  // namespace
}  // namespace faultline::testing
