// The model at a drill's scale: 300 nodes in 3 zones, 600 spread-constrained
// pods, a zone lost. The filters' per-pod state (PodTopologySpread's
// PreFilter counts, the nodes with required anti-affinity) keeps this well
// under a second; recounting per candidate node took ~30 s.
#include <gtest/gtest.h>

#include <chrono>

#include "runner/plan/predict.h"
#include "tests/unit/plan/fixtures.h"

namespace faultline::plan::testing {
namespace {

TEST(SimulateScale, ThreeHundredNodesAndSixHundredPodsInSeconds) {
  Snapshot s;
  for (const char* z : {"zone-a", "zone-b", "zone-c"})
    for (int i = 0; i < 100; ++i)
      s.nodes.push_back(make_node(std::string(z) + "-" + std::to_string(i), z));
  int k = 0;
  for (const auto& n : s.nodes)
    for (int j = 0; j < 2; ++j) {
      Pod p = make_pod("p" + std::to_string(k++), n.name, {{"app", "x"}}, 50);
      p.ns = "shop";
      p.edit_spec().spread = {
          spread("topology.kubernetes.io/zone", 1, {{"matchLabels", {{"app", "x"}}}})};
      p.edit_spec().spread[0].node_taints_honor = true;
      s.pods.push_back(p);
    }
  Scenario sc;
  sc.target_ns = "shop";
  sc.target_selector = "app=x";
  sc.allowed_namespaces = {"shop"};
  sc.faults = {{FaultKind::Cordon, "zone-a"}, {FaultKind::FailZone, "zone-a"}};
  chaos::Guards g;
  g.namespaces = {"shop"};
  auto t0 = std::chrono::steady_clock::now();
  Prediction p = predict(s, sc, {}, g);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(p.outcome.displaced.size(), 200u);
  EXPECT_EQ(p.outcome.target_pending, 0);
  EXPECT_EQ(p.skew_after, 0);
  EXPECT_LT(took, 20.0) << "generous for a shared 2-core machine; ~0.3 s when idle";
}

}  // namespace
}  // namespace faultline::plan::testing
