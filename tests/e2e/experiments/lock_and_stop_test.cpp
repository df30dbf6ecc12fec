// One drill per cluster, and a stop that nothing outruns, on the real local
// cluster: a second drill in another state namespace is refused; a stale
// lock is taken over only by compare-and-swap and only its own run's marks
// are undone; a drill whose lock is taken from it stops at once; a script
// stuck inside one C call (a backtracking pattern) is rolled back after
// SIGTERM within the grace period.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "runner/chaos/journal.h"
#include "runner/chaos/lock.h"
#include "tests/e2e/cluster_env.h"
#include "tests/e2e/experiments/experiment_env.h"

namespace faultline::testing {
namespace {

using namespace std::chrono_literals;
namespace res = kube::resources;

bool cordoned_by(const std::string& node, const std::string& run) {
  auto n = cluster_client().get(res::kNodes, "", node);
  return n["spec"].value("unschedulable", false) &&
         n["metadata"].value("annotations", json::object()).value(chaos::kCordonedAnnotation, "") ==
             run;
}

bool zone_a_cordoned_by_faultline() {
  auto n = cluster_client().get(res::kNodes, "", "zone-a-1");
  return n["spec"].value("unschedulable", false) &&
         n["metadata"].value("annotations", json::object()).contains(chaos::kCordonedAnnotation);
}

// A node cordoned as a faultline run would have cordoned it.
void cordon_as(const std::string& node, const std::string& run) {
  kubectl("annotate node " + node + " --overwrite " + chaos::kCordonedAnnotation + "=" + run);
  kubectl("cordon " + node);
}

class LockAndStop : public ::testing::Test {
 protected:
  void SetUp() override {
    fresh_demo();
    before_ = snapshot_nodes();
  }
  void TearDown() override {
    try {
      for (const auto& node : extra_cordons_) {
        kubectl("uncordon " + node);
        kubectl("annotate node " + node + " " + chaos::kCordonedAnnotation + "-");
      }
      kubectl("delete namespace faultline-other --ignore-not-found --wait=false");
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
    if (!journal_configmaps().empty() || lock_lease_exists()) {
      kubectl("delete lease faultline-lock -n faultline --ignore-not-found");
      std::string out;
      faultline("recover", &out);
    }
  }

  std::string experiment(const std::string& name, const std::string& lua) {
    scratch_.script(name + ".lua", lua);
    ExperimentSpec spec;
    spec.name = "e2e-" + name;
    spec.script = name + ".lua";
    spec.params = "";
    return scratch_.experiment(name, spec.yaml());
  }

  Scratch scratch_;
  NodeSnapshot before_;
  std::vector<std::string> extra_cordons_;
};

const char* kCordonAndHold = "chaos.cordon_zone(\"zone-a\")\nwait.sleep(\"60s\")\n";

TEST_F(LockAndStop, SecondDrillInAnotherStateNamespace_IsRefusedWithExitFour) {
  std::string file = experiment("cordon-and-hold", kCordonAndHold), out_dir = scratch_.output_dir();
  FaultlineProcess first({"run", file, "--output-dir", out_dir}, scratch_.path("first.log"),
                         kubeconfig_path());
  ASSERT_TRUE(eventually(zone_a_cordoned_by_faultline, 30s)) << first.output();

  std::string output;
  int code = faultline(
      "run " + file + " --state-namespace faultline-other --output-dir " + scratch_.output_dir(),
      &output);

  EXPECT_EQ(code, 4) << output;
  EXPECT_NE(output.find("another drill holds the lock"), std::string::npos) << output;
  EXPECT_TRUE(first.running()) << first.output();
  first.signal(SIGTERM);
  EXPECT_EQ(first.wait(60s), 3) << first.output();
  expect_cluster_as_before(before_);
}

TEST_F(LockAndStop, StaleLockFromElsewhere_TakenOverAfterItsLeaseAndOnlyItsRunUndone) {
  // A holder on another machine that stopped renewing (its clock far ahead,
  // so its renewTime looks fresh): run "ghost" cordoned zone-c-1. Another
  // run's cordon on zone-b-1 is not the ghost's to give up.
  auto client = cluster_client();
  chaos::ensure_namespace(client, "faultline");
  std::string lease = scratch_.path("lease.yaml");
  {
    std::ofstream out(lease);
    out << "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: faultline-lock\n"
           "  namespace: faultline\n  annotations:\n    faultline.io/run: ghost\n"
           "    faultline.io/state-namespace: faultline\nspec:\n  holderIdentity: "
           "ghost@elsewhere/0000/1\n"
           "  leaseDurationSeconds: 4\n  renewTime: \"2099-01-01T00:00:00.000000Z\"\n";
  }
  kubectl("apply -f " + lease);
  cordon_as("zone-c-1", "ghost");
  cordon_as("zone-b-1", "other-run");
  extra_cordons_ = {"zone-b-1", "zone-c-1"};
  auto before_takeover = std::chrono::steady_clock::now();
  std::string file = experiment("cordon-briefly",
                                "chaos.cordon_zone(\"zone-a\")\nwait.sleep(\"1s\")\n"),
              out_dir = scratch_.output_dir(), output;

  int code = faultline("run " + file + " --output-dir " + out_dir, &output);

  EXPECT_EQ(code, 0) << output;
  EXPECT_GE(std::chrono::steady_clock::now() - before_takeover, 4s);  // watched a whole lease first
  EXPECT_NE(output.find("took over the stale drill lock of ghost@elsewhere/0000/1"),
            std::string::npos)
      << output;
  EXPECT_FALSE(cordoned_by("zone-c-1", "ghost"));
  EXPECT_TRUE(cordoned_by("zone-b-1", "other-run"));
  EXPECT_FALSE(lock_lease_exists());
}

TEST_F(LockAndStop, LockTakenFromALiveDrill_StopsItAtOnceAndRollsBack) {
  std::string file = experiment("cordon-and-hold", kCordonAndHold), out_dir = scratch_.output_dir();
  FaultlineProcess run({"run", file, "--output-dir", out_dir}, scratch_.path("run.log"),
                       kubeconfig_path());
  ASSERT_TRUE(eventually(zone_a_cordoned_by_faultline, 30s)) << run.output();
  auto taken = std::chrono::steady_clock::now();
  kubectl(
      "patch lease faultline-lock -n faultline --type merge -p "
      "'{\"spec\":{\"holderIdentity\":\"thief\"}}'");

  int code = run.wait(60s);

  EXPECT_EQ(code, 3) << run.output();
  EXPECT_LT(std::chrono::steady_clock::now() - taken, 20s);  // one renewal period + rollback
  json report = read_report(out_dir);
  EXPECT_EQ(report.value("result", ""), "aborted");
  EXPECT_NE(report.value("error", "").find("lost the drill lock"), std::string::npos)
      << report.value("error", "");
  EXPECT_TRUE(report["rollback"].value("complete", false));
  // The thief's lease is left alone.
  EXPECT_EQ(cluster_client().get(res::kLeases, "faultline", "faultline-lock")["spec"].value(
                "holderIdentity", ""),
            "thief");
  kubectl("delete lease faultline-lock -n faultline");
  expect_cluster_as_before(before_);
}

TEST_F(LockAndStop, SigtermDuringABacktrackingPatternMatch_RollsBackWithinTheGracePeriod) {
  std::string file = experiment("cordon-then-backtrack",
                                "chaos.cordon_zone(\"zone-a\")\n"
                                "log.info(\"matching\")\n"
                                "string.find(string.rep(\"a\", 2e4), \".-.-.-.-b\")\n"),
              out_dir = scratch_.output_dir();
  FaultlineProcess run({"run", file, "--output-dir", out_dir}, scratch_.path("run.log"),
                       kubeconfig_path());
  ASSERT_TRUE(eventually([&] { return run.output().find("matching") != std::string::npos; }, 30s))
      << run.output();
  std::this_thread::sleep_for(1s);
  ASSERT_TRUE(run.running()) << run.output();
  auto signalled = std::chrono::steady_clock::now();
  run.signal(SIGTERM);

  int code = run.wait(60s);

  EXPECT_EQ(code, 3) << run.output();
  // 3 s grace for the script, then the rollback and reports.
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 10s);
  json report = read_report(out_dir);
  EXPECT_EQ(report.value("result", ""), "aborted");
  EXPECT_TRUE(report["rollback"].value("complete", false));
  EXPECT_NE(report.value("error", "").find("the script did not stop within"), std::string::npos)
      << report.value("error", "");
  expect_cluster_as_before(before_);
}

}  // namespace
}  // namespace faultline::testing
