// TaintToleration and NodeUnschedulable, after tainttoleration/
// taint_toleration_test.go TestTaintTolerationFilter and
// nodeunschedulable/node_unschedulable_test.go.
#include <gtest/gtest.h>

#include "tests/unit/plan/fixtures.h"

namespace faultline::plan::testing {
namespace {

FilterResult on_tainted(const Pod& pod, std::vector<Taint> taints) {
  Node n = make_node("n", "z");
  n.taints = std::move(taints);
  return taint_toleration(pod, {&n, {}, {}});
}

TEST(TaintToleration, APodWithoutTolerationsCannotGoOntoATaintedNode) {
  EXPECT_EQ(on_tainted(make_pod("p"), {{"dedicated", "user1", "NoSchedule"}}),
            "node(s) had untolerated taint(s)");
}

TEST(TaintToleration, AMatchingTolerationAllowsTheDedicatedNode) {
  Pod p = make_pod("p");
  p.edit_spec().tolerations = {{"dedicated", "Equal", "user1", "NoSchedule"}};
  EXPECT_EQ(on_tainted(p, {{"dedicated", "user1", "NoSchedule"}}), std::nullopt);
}

TEST(TaintToleration, AnotherValueDoesNotTolerate) {
  Pod p = make_pod("p");
  p.edit_spec().tolerations = {{"dedicated", "Equal", "user2", "NoSchedule"}};
  EXPECT_NE(on_tainted(p, {{"dedicated", "user1", "NoSchedule"}}), std::nullopt);
}

TEST(TaintToleration, ExistsToleratesAnyValueAndAnEmptyEffectEveryEffect) {
  Pod p = make_pod("p");
  p.edit_spec().tolerations = {{"foo", "Exists", "", ""}};
  EXPECT_EQ(on_tainted(p, {{"foo", "bar", "NoSchedule"}, {"foo", "baz", "NoExecute"}}),
            std::nullopt);
}

TEST(TaintToleration, PreferNoScheduleDoesNotFilter) {
  // "The pod has a toleration that keys and values match the taint on the node, but (non-empty)
  // effect doesn't match, can't be scheduled onto the node" — and PreferNoSchedule never filters.
  Pod p = make_pod("p");
  p.edit_spec().tolerations = {{"foo", "Equal", "bar", "PreferNoSchedule"}};
  EXPECT_NE(on_tainted(p, {{"foo", "bar", "NoSchedule"}}), std::nullopt);
  EXPECT_EQ(on_tainted(make_pod("p"), {{"foo", "bar", "PreferNoSchedule"}}), std::nullopt);
}

TEST(TaintToleration, FaultlinesZoneFailureTaintKeepsPodsOff) {
  EXPECT_EQ(on_tainted(make_pod("p"), {{"faultline.io/zone-failure", "run-1", "NoExecute"}}),
            "node(s) had untolerated taint(s)");
}

TEST(NodeUnschedulable, ACordonedNodeTakesOnlyPodsTolerating) {
  Node n = make_node("n", "z");
  n.unschedulable = true;
  EXPECT_EQ(node_unschedulable(make_pod("p"), {&n, {}, {}}), "node(s) were unschedulable");
  Pod tolerant = make_pod("p");
  tolerant.edit_spec().tolerations = {
      {"node.kubernetes.io/unschedulable", "Exists", "", "NoSchedule"}};
  EXPECT_EQ(node_unschedulable(tolerant, {&n, {}, {}}), std::nullopt);
  n.unschedulable = false;
  EXPECT_EQ(node_unschedulable(make_pod("p"), {&n, {}, {}}), std::nullopt);
}

}  // namespace
}  // namespace faultline::plan::testing
