// A node an operator cordoned before the drill is not faultline's to undo:
// a zone outage over its zone leaves it cordoned afterwards, and puts every
// other node back as it was.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "runner/chaos/cluster_view.h"
#include "tests/e2e/cluster_env.h"
#include "tests/e2e/experiments/experiment_env.h"

namespace faultline::testing {
namespace {

namespace res = kube::resources;

class PreexistingCordon : public ::testing::Test {
 protected:
  void TearDown() override { kubectl("uncordon zone-a-1"); }

  // The node lifecycle controller answers a cordon with the
  // node.kubernetes.io/unschedulable:NoSchedule taint, a moment later: the
  // "before" snapshot waits for it, or the controller's taint would read as
  // a change the run made (seen once in a rehearsal).
  static void wait_for_the_controllers_taint(const std::string& node) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < until) {
      auto n = cluster_client().get(res::kNodes, "", node);
      for (const auto& t : n["spec"].value("taints", json::array()))
        if (t.value("key", "") == "node.kubernetes.io/unschedulable") return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << node << ": no node.kubernetes.io/unschedulable taint within 30 s of the cordon";
  }
};

TEST_F(PreexistingCordon, ZoneOutageLeavesAnOperatorsCordonInPlace) {
  fresh_demo();
  kubectl("cordon zone-a-1");
  wait_for_the_controllers_taint("zone-a-1");
  NodeSnapshot before = snapshot_nodes();  // zone-a-1 cordoned, by someone else
  Scratch scratch;
  std::string out_dir = scratch.output_dir(), output;

  int code = faultline(
      "run " + source_dir() + "/experiments/zone-outage.yaml --output-dir " + out_dir, &output);

  EXPECT_EQ(code, 0) << output;
  auto node = cluster_client().get(res::kNodes, "", "zone-a-1");
  EXPECT_TRUE(node["spec"].value("unschedulable", false)) << "the operator's cordon was undone";
  EXPECT_FALSE(
      node["metadata"].value("annotations", json::object()).contains(chaos::kCordonedAnnotation));
  expect_nodes_as_before(before);  // the others uncordoned and untainted again
  EXPECT_TRUE(journal_configmaps().empty());
  EXPECT_FALSE(lock_lease_exists());

  // The report says the cordon of zone-a-1 was skipped, and why.
  json report = read_report(out_dir);
  int skipped = 0;
  for (const auto& f : report.value("faults", json::array())) {
    if (f.value("action", "") != "cordon_node") continue;
    if (f.value("target", "") == "node/zone-a-1") {
      EXPECT_EQ(f.value("status", ""), "skipped") << f.dump();
      EXPECT_EQ(f.value("error", ""), "already cordoned before the run: left as it was")
          << f.dump();
      ++skipped;
    } else {
      EXPECT_EQ(f.value("status", ""), "rolled_back") << f.dump();
    }
  }
  EXPECT_EQ(skipped, 1) << report.value("faults", json::array()).dump(2);
}

// The other side: a node this run cordoned itself (cordon_zone, then a
// drain that cordons again) is "already cordoned by this run", never "before
// the run"; and the run's own report.json, with its skipped entries, is read
// back by `faultline report` (the reader knows every state the writer writes).
TEST_F(PreexistingCordon, ANodeThisRunCordonedIsNotReportedAsCordonedBeforeTheRun) {
  fresh_demo();
  NodeSnapshot before = snapshot_nodes();
  Scratch scratch;
  scratch.script(
      "cordon_then_drain.lua",
      "chaos.cordon_zone(\"zone-a\")\nchaos.drain_zone(\"zone-a\", { timeout = \"60s\" })\n");
  ExperimentSpec spec;
  spec.name = "cordon-then-drain";
  spec.script = "cordon_then_drain.lua";
  spec.params = "";
  std::string file = scratch.experiment(spec.name, spec.yaml()), out_dir = scratch.output_dir(),
              output;

  int code = faultline("run " + file + " --output-dir " + out_dir, &output);

  EXPECT_EQ(code, 0) << output;
  json report = read_report(out_dir);
  int skipped = 0;
  for (const auto& f : report.value("faults", json::array())) {
    EXPECT_EQ(f.value("error", "").find("before the run"), std::string::npos) << f.dump();
    if (f.value("status", "") == "skipped") {
      EXPECT_EQ(f.value("error", "").rfind("already cordoned by this run (fault ", 0), 0u)
          << f.dump();
      ++skipped;
    }
  }
  EXPECT_GT(skipped, 0) << report.value("faults", json::array()).dump(2);
  std::string md;
  EXPECT_EQ(run(faultline_binary() + " report " + out_dir + "/report.json --format md", &md), 0)
      << md;
  EXPECT_EQ(md.find("still applied"), std::string::npos) << md;
  expect_nodes_as_before(before);
}

}  // namespace
}  // namespace faultline::testing
