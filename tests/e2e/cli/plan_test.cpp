// `faultline plan` and `run --dry-run`: say what a run would touch, touch nothing.
#include <gtest/gtest.h>

#include "tests/e2e/cluster_env.h"

namespace faultline::testing {
namespace {

TEST(PlanE2E, NamesTheZoneNodesPodsPdbAndCapacityAndTouchesNothing) {
  deploy_demo();
  std::string before = kubectl("get nodes -o jsonpath='{range .items[*]}{.metadata.name}{.spec.unschedulable}{.spec.taints}{\"\\n\"}{end}'");
  for (const char* command : {"plan", "run --dry-run"}) {
    std::string out;
    int code = faultline(std::string(command) + " " + source_dir() + "/experiments/zone-outage.yaml", &out);
    EXPECT_EQ(code, 0) << out;
    EXPECT_NE(out.find("zone zone-a: 3 nodes (zone-a-1, zone-a-2, zone-a-3); 2 target pods displaced"), std::string::npos) << out;
    EXPECT_NE(out.find("capacity OK"), std::string::npos) << out;
    EXPECT_NE(out.find("pdb checkout: minAvailable 4"), std::string::npos) << out;
    EXPECT_NE(out.find("target: shop app=checkout: 6 pods"), std::string::npos) << out;
    EXPECT_NE(out.find("nothing was changed"), std::string::npos) << out;
  }
  EXPECT_EQ(kubectl("get nodes -o jsonpath='{range .items[*]}{.metadata.name}{.spec.unschedulable}{.spec.taints}{\"\\n\"}{end}'"), before);
  expect_cluster_clean();
}

TEST(PlanE2E, ReportsMissingCapacityWhenTheOtherZonesAreFull) {
  deploy_demo();
  // Cordon zone-b and zone-c: losing zone-a would leave nowhere to go.
  kubectl("cordon -l 'topology.kubernetes.io/zone in (zone-b,zone-c)'");
  std::string out;
  int code = faultline("plan " + source_dir() + "/experiments/zone-outage.yaml", &out);
  kubectl("uncordon -l 'topology.kubernetes.io/zone in (zone-b,zone-c)'");
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("NOT ENOUGH CAPACITY"), std::string::npos) << out;
}

}  // namespace
}  // namespace faultline::testing
