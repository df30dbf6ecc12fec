// Spread domains as the scheduler counts them: nodeAffinityPolicy Honor (the
// default) drops nodes the pod's affinity/nodeSelector rules out;
// nodeTaintsPolicy Honor drops nodes with untolerated taints (Ignore, the
// default, keeps them).
#include "runner/observe/spread_domains.h"

#include <gtest/gtest.h>

namespace faultline::observe {
namespace {

using json = nlohmann::json;

json node(const std::string& zone, json taints = json::array()) {
  return {
      {"metadata", {{"name", "n-" + zone}, {"labels", {{"topology.kubernetes.io/zone", zone}}}}},
      {"spec", {{"taints", taints}}}};
}

json pod_in_zones(const std::vector<std::string>& zones, json constraint = json::object()) {
  json spec = {{"affinity",
                {{"nodeAffinity",
                  {{"requiredDuringSchedulingIgnoredDuringExecution",
                    {{"nodeSelectorTerms",
                      {{{"matchExpressions",
                         {{{"key", "topology.kubernetes.io/zone"},
                           {"operator", "In"},
                           {"values", zones}}}}}}}}}}}}}};
  constraint["topologyKey"] = "topology.kubernetes.io/zone";
  spec["topologySpreadConstraints"] = json::array({constraint});
  return {{"spec", spec}};
}

TEST(SpreadDomains, NodeAffinityHonouredByDefault) {
  json pod = pod_in_zones({"zone-a", "zone-b", "zone-c"});
  EXPECT_TRUE(node_counts_for_spread(pod, node("zone-b")));
  EXPECT_FALSE(node_counts_for_spread(pod, node("zone-d")));
}

TEST(SpreadDomains, NodeAffinityPolicyIgnoreCountsEveryNode) {
  json pod = pod_in_zones({"zone-a"}, {{"nodeAffinityPolicy", "Ignore"}});
  EXPECT_TRUE(node_counts_for_spread(pod, node("zone-d")));
}

TEST(SpreadDomains, NodeSelectorMustMatch) {
  json pod = {{"spec", {{"nodeSelector", {{"topology.kubernetes.io/zone", "zone-a"}}}}}};
  EXPECT_TRUE(node_counts_for_spread(pod, node("zone-a")));
  EXPECT_FALSE(node_counts_for_spread(pod, node("zone-b")));
}

TEST(SpreadDomains, TaintsIgnoredByDefaultHonouredWhenAsked) {
  json taint = json::array({{{"key", "dedicated"}, {"value", "gpu"}, {"effect", "NoSchedule"}}});
  json pod = pod_in_zones({"zone-a", "zone-b"});
  EXPECT_TRUE(node_counts_for_spread(pod, node("zone-b", taint)));
  json honour = pod_in_zones({"zone-a", "zone-b"}, {{"nodeTaintsPolicy", "Honor"}});
  EXPECT_FALSE(node_counts_for_spread(honour, node("zone-b", taint)));
  honour["spec"]["tolerations"] = json::array({{{"key", "dedicated"}, {"operator", "Exists"}}});
  EXPECT_TRUE(node_counts_for_spread(honour, node("zone-b", taint)));
  json soft = json::array({{{"key", "x"}, {"effect", "PreferNoSchedule"}}});
  EXPECT_TRUE(node_counts_for_spread(pod_in_zones({"zone-a"}, {{"nodeTaintsPolicy", "Honor"}}),
                                     node("zone-a", soft)));
}

TEST(SpreadDomains, NoRulesCountsEveryNode) {
  EXPECT_TRUE(node_counts_for_spread(json::object(), node("zone-x")));
}

}  // namespace
}  // namespace faultline::observe
