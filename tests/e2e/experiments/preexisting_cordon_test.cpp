// A node an operator cordoned before the drill is not faultline's to undo:
// a zone outage over its zone leaves it cordoned afterwards, and puts every
// other node back as it was.
#include <gtest/gtest.h>

#include "runner/chaos/cluster_view.h"
#include "tests/e2e/cluster_env.h"
#include "tests/e2e/experiments/experiment_env.h"

namespace faultline::testing {
namespace {

namespace res = kube::resources;

class PreexistingCordon : public ::testing::Test {
 protected:
  void TearDown() override { kubectl("uncordon zone-a-1"); }
};

TEST_F(PreexistingCordon, ZoneOutageLeavesAnOperatorsCordonInPlace) {
  fresh_demo();
  kubectl("cordon zone-a-1");
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

}  // namespace
}  // namespace faultline::testing
