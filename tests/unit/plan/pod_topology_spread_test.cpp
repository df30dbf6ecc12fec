// PodTopologySpread (hard constraints), with the examples of the Kubernetes
// docs "Pod Topology Spread Constraints" and podtopologyspread/filtering_test.go.
#include <gtest/gtest.h>

#include "tests/unit/plan/fixtures.h"

namespace faultline::plan::testing {
namespace {

const char* kSkew = "node(s) didn't match pod topology spread constraints";

// The docs' cluster: zoneA = node1, node2; zoneB = node3, node4; three foo=bar
// pods on node1, node2, node3.
Cluster docs_cluster() {
  Cluster c;
  c.snapshot.nodes = {make_node("node1", "zoneA"), make_node("node2", "zoneA"),
                      make_node("node3", "zoneB"), make_node("node4", "zoneB")};
  c.snapshot.pods = {make_pod("p1", "node1"), make_pod("p2", "node2"), make_pod("p3", "node3")};
  c.build();
  return c;
}

std::vector<std::string> feasible(const Cluster& c, const Pod& pod) {
  std::vector<std::string> out;
  for (const auto& n : c.state.nodes)
    if (!pod_topology_spread(pod, n, c.state)) out.push_back(n.node->name);
  return out;
}

using Names = std::vector<std::string>;

TEST(PodTopologySpread, DocsOneConstraintOnlyZoneBFits) {
  Cluster c = docs_cluster();
  Pod p = make_pod("mypod");
  p.edit_spec().spread = {spread("topology.kubernetes.io/zone", 1)};
  EXPECT_EQ(feasible(c, p), (Names{"node3", "node4"}));
  EXPECT_EQ(pod_topology_spread(p, c.info("node1"), c.state), kSkew);
}

TEST(PodTopologySpread, DocsMaxSkewTwoAllowsZoneA) {
  Cluster c = docs_cluster();
  Pod p = make_pod("mypod");
  p.edit_spec().spread = {spread("topology.kubernetes.io/zone", 2)};
  EXPECT_EQ(feasible(c, p), (Names{"node1", "node2", "node3", "node4"}));
}

TEST(PodTopologySpread, DocsTwoConstraintsOnlyNode4Fits) {
  Cluster c = docs_cluster();
  Pod p = make_pod("mypod");
  p.edit_spec().spread = {spread("topology.kubernetes.io/zone", 1),
                          spread("kubernetes.io/hostname", 1)};
  EXPECT_EQ(feasible(c, p), (Names{"node4"}));
}

TEST(PodTopologySpread, ScheduleAnywayNeverFilters) {
  Cluster c = docs_cluster();
  Pod p = make_pod("mypod");
  p.edit_spec().spread = {spread("topology.kubernetes.io/zone", 1)};
  p.edit_spec().spread[0].hard = false;
  EXPECT_EQ(feasible(c, p).size(), 4u);
}

TEST(PodTopologySpread, ANodeWithoutTheTopologyKeyFails) {
  Cluster c = docs_cluster();
  c.snapshot.nodes.push_back(make_node("node5", ""));
  c.build();
  Pod p = make_pod("mypod");
  p.edit_spec().spread = {spread("topology.kubernetes.io/zone", 1)};
  EXPECT_EQ(pod_topology_spread(p, c.info("node5"), c.state),
            "node(s) didn't match pod topology spread constraints (missing required label)");
}

TEST(PodTopologySpread, FewerDomainsThanMinDomainsMakesTheGlobalMinimumZero) {
  // Docs (minDomains): with 2 zones and minDomains 3, the global minimum is 0,
  // so with maxSkew 1 no zone may hold more than 1 matching pod.
  Cluster c = docs_cluster();
  Pod p = make_pod("mypod");
  p.edit_spec().spread = {spread("topology.kubernetes.io/zone", 2)};
  p.edit_spec().spread[0].min_domains = 3;
  // zoneA holds 2: 2+1-0 = 3 > 2; zoneB holds 1: 1+1-0 = 2 <= 2.
  EXPECT_EQ(feasible(c, p), (Names{"node3", "node4"}));
  p.edit_spec().spread[0].max_skew = 1;
  EXPECT_TRUE(feasible(c, p).empty());
  p.edit_spec().spread[0].min_domains = 2;  // enough domains: the minimum is zoneB's 1
  EXPECT_EQ(feasible(c, p), (Names{"node3", "node4"}));
}

TEST(PodTopologySpread, TerminatingPodsAndOtherNamespacesAreNotCounted) {
  Cluster c = docs_cluster();
  c.snapshot.pods[0].terminating = true;  // zoneA now 1 (node2)
  c.snapshot.pods[1].ns = "other";        // zoneA now 0
  c.build();
  Pod p = make_pod("mypod");
  p.edit_spec().spread = {spread("topology.kubernetes.io/zone", 1)};
  EXPECT_EQ(feasible(c, p), (Names{"node1", "node2"}));
}

TEST(PodTopologySpread, AFailedZoneStaysADomainUnlessNodeTaintsPolicyHonor) {
  // zoneA's nodes carry faultline's NoExecute taint and hold no pod (evicted);
  // zoneB and zoneC hold one each. Default nodeTaintsPolicy Ignore: zoneA is
  // a domain with 0 pods, so 1+1-0 = 2 > 1 everywhere: the pod stays Pending.
  Cluster c;
  c.snapshot.nodes = {make_node("a1", "zoneA"), make_node("b1", "zoneB"), make_node("c1", "zoneC")};
  c.snapshot.nodes[0].taints = {{"faultline.io/zone-failure", "run", "NoExecute"}};
  c.snapshot.pods = {make_pod("pb", "b1"), make_pod("pc", "c1")};
  c.build();
  Pod p = make_pod("mypod");
  p.edit_spec().spread = {spread("topology.kubernetes.io/zone", 1)};
  EXPECT_EQ(feasible(c, p), (Names{"a1"}));  // only the tainted node (TaintToleration filters it)
  p.edit_spec().spread[0].node_taints_honor = true;
  // Honor: zoneA is no domain, the minimum is 1 and b1/c1 pass (1+1-1 = 1).
  // a1 passes this filter too, as in the plugin (its Filter does not apply
  // the inclusion policies to the candidate); TaintToleration rejects it.
  EXPECT_EQ(feasible(c, p), (Names{"a1", "b1", "c1"}));
}

TEST(PodTopologySpread, NodeAffinityPolicyHonorCountsOnlyNodesThePodMayUse) {
  Cluster c = docs_cluster();
  Pod p = make_pod("mypod");
  p.edit_spec().spread = {spread("topology.kubernetes.io/zone", 1)};
  p.edit_spec().node_selector = {{"kubernetes.io/hostname", "node1"}};  // only zoneA is eligible
  // Honor (default): only node1 counts, so zoneA (1 pod) is the only domain: 1+1-1 = 1.
  EXPECT_EQ(pod_topology_spread(p, c.info("node1"), c.state), std::nullopt);
  p.edit_spec().spread[0].node_affinity_honor = false;  // Ignore: zoneB (1) is the minimum
  EXPECT_EQ(pod_topology_spread(p, c.info("node1"), c.state), kSkew);
}

TEST(PodTopologySpread, MatchLabelKeysCountOnlyTheSameRevision) {
  Cluster c = docs_cluster();
  for (auto& pod : c.snapshot.pods) pod.edit_spec().labels["pod-template-hash"] = "old";
  c.build();
  Pod p = make_pod("mypod", "", {{"foo", "bar"}, {"pod-template-hash", "new"}});
  p.edit_spec().spread = {spread("topology.kubernetes.io/zone", 1)};
  EXPECT_EQ(feasible(c, p), (Names{"node3", "node4"}));
  p.edit_spec().spread[0].match_label_keys = {"pod-template-hash"};
  EXPECT_EQ(feasible(c, p).size(), 4u);  // no pod of the new revision anywhere
}

}  // namespace
}  // namespace faultline::plan::testing
