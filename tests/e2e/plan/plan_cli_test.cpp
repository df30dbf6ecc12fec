// `faultline plan` and `run --dry-run` as a user sees them: the text and JSON
// outputs, bad input (exit 2), and a prediction that never says "fits" for
// what cannot be placed.
#include <gtest/gtest.h>

#include "tests/e2e/cluster_env.h"
#include "tests/e2e/plan/plan_env.h"

namespace faultline::testing {
namespace {

std::string node_state() {
  return kubectl(
      "get nodes -o jsonpath='{range "
      ".items[*]}{.metadata.name}{.spec.unschedulable}{.spec.taints}{\"\\n\"}{end}'");
}

TEST(PlanE2E, TextNamesTheFaultsPlacementEndpointsPdbAndVerdictAndTouchesNothing) {
  deploy_demo();
  std::string before = node_state();
  for (const char* command : {"plan", "run --dry-run"}) {
    std::string out;
    int code = faultline(
        std::string(command) + " " + source_dir() + "/experiments/zone-outage.yaml", &out);
    EXPECT_EQ(code, 0) << out;
    EXPECT_NE(out.find("faults: cordon_zone(zone-a) fail_zone(zone-a)"), std::string::npos) << out;
    EXPECT_NE(out.find("faulted nodes: 3 (zone-a-1, zone-a-2, zone-a-3)"), std::string::npos)
        << out;
    EXPECT_NE(out.find("displaced: 2 pod(s), 2 re-placed, 0 Pending or lost"), std::string::npos)
        << out;
    EXPECT_NE(
        out.find("ready endpoints: 6 now, min 4 during the fault; zone-b min 2; zone-c min 2"),
        std::string::npos)
        << out;
    EXPECT_NE(out.find("pdb checkout: 6/6 healthy, desiredHealthy 4, disruptionsAllowed 2"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("slo ready_endpoints(checkout): pass"), std::string::npos) << out;
    EXPECT_NE(out.find("prediction: pass"), std::string::npos) << out;
    EXPECT_NE(out.find("guards: max_zones 1, max_node_fraction 0.5, namespaces shop"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("nothing was changed"), std::string::npos) << out;
  }
  EXPECT_EQ(node_state(), before);
  expect_cluster_clean();
}

TEST(PlanE2E, JsonOutputParses) {
  deploy_demo();
  int code = -1;
  json plan = plan_json(source_dir() + "/experiments/zone-drain.yaml", &code);
  ASSERT_TRUE(plan.is_object());
  EXPECT_EQ(code, 0) << plan.dump(2);
  EXPECT_EQ(plan["experiment"], "checkout-zone-drain");
  EXPECT_EQ(plan["faults"][0]["kind"], "drain_zone");
  EXPECT_EQ(plan["pdbs"][0]["drain_waves"], 1);
  EXPECT_EQ(plan["ready_endpoints"]["min"], 4);
}

TEST(PlanE2E, NeverSaysItFitsWhenTheOtherZonesAreCordoned) {
  deploy_demo();
  // Cordon zone-b and zone-c: losing zone-a would leave nowhere to go.
  kubectl("cordon -l 'topology.kubernetes.io/zone in (zone-b,zone-c)'");
  std::string out;
  int code = faultline("plan " + source_dir() + "/experiments/zone-outage.yaml", &out);
  kubectl("uncordon -l 'topology.kubernetes.io/zone in (zone-b,zone-c)'");
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("PENDING: 0/9 nodes are available: 9 node(s) were unschedulable."),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("slo replacement: fail — 2 target pod(s) stay Pending"), std::string::npos)
      << out;
  EXPECT_NE(out.find("prediction: fail"), std::string::npos) << out;
}

TEST(PlanE2E, AZoneOrTargetThatDoesNotExistIsBadInput) {
  deploy_demo();
  std::string file = source_dir() + "/experiments/zone-outage.yaml";
  std::string out;
  EXPECT_EQ(faultline("plan " + file + " --param zone=zone-x", &out), 2) << out;
  EXPECT_NE(out.find("error: " + file +
                     ": params: zone \"zone-x\" has no nodes in this cluster (zones: zone-a, "
                     "zone-b, zone-c)"),
            std::string::npos)
      << out;
  Scratch scratch;
  ExperimentSpec spec;
  std::string yaml = spec.yaml();
  yaml.replace(yaml.find("app=checkout"), 12, "app=nothing");
  std::string missing = scratch.experiment("missing", yaml);
  EXPECT_EQ(faultline("plan " + missing, &out), 2) << out;
  EXPECT_NE(out.find("target shop app=nothing selects no pod"), std::string::npos) << out;
  EXPECT_EQ(faultline("plan " + file + " --output yaml", &out), 2) << out;
  EXPECT_NE(out.find("--output: expected json or text, got \"yaml\""), std::string::npos) << out;
}

}  // namespace
}  // namespace faultline::testing
