// Watch events in, samples out: the arithmetic of the Kubernetes probes.
#include "runner/observe/trackers.h"

#include <gtest/gtest.h>

namespace faultline::observe {
namespace {

using json = nlohmann::json;

json endpoint(const std::string& uid, const std::string& zone, std::optional<bool> ready) {
  json e = {{"addresses", {"10.0.0." + uid}}, {"targetRef", {{"kind", "Pod"}, {"uid", uid}}}};
  if (!zone.empty()) e["zone"] = zone;
  e["conditions"] = json::object();
  if (ready) e["conditions"]["ready"] = *ready;
  return e;
}

kube::WatchEvent slice(const std::string& type, const std::string& name, json endpoints) {
  return {type, {{"metadata", {{"name", name}}}, {"endpoints", std::move(endpoints)}}};
}

TEST(EndpointsTracker, CountsReadyEndpointsPerZoneAcrossSlices) {
  EndpointsTracker t;
  t.apply(slice("ADDED", "s1", {endpoint("1", "a", true), endpoint("2", "b", true)}), 1);
  auto s = t.apply(
      slice("ADDED", "s2", {endpoint("3", "b", std::nullopt), endpoint("4", "c", false)}), 2);
  EXPECT_EQ(s.t, 2);
  EXPECT_EQ(s.ready_total, 3);  // an absent ready condition counts as ready
  EXPECT_EQ(s.not_ready_total, 1);
  EXPECT_EQ(s.ready_by_zone, (std::map<std::string, int>{{"a", 1}, {"b", 2}, {"c", 0}}));
}

TEST(EndpointsTracker, KeepsEmptiedZonesAtZero) {
  EndpointsTracker t;
  t.apply(slice("ADDED", "s1", {endpoint("1", "a", true), endpoint("2", "b", true)}), 1);
  auto s = t.apply(slice("MODIFIED", "s1", {endpoint("2", "b", true)}), 2);
  EXPECT_EQ(s.ready_by_zone, (std::map<std::string, int>{{"a", 0}, {"b", 1}}));
  s = t.apply(slice("DELETED", "s1", json::array()), 3);
  EXPECT_EQ(s.ready_total, 0);
  EXPECT_EQ(s.ready_by_zone, (std::map<std::string, int>{{"a", 0}, {"b", 0}}));
}

TEST(EndpointsTracker, CountsAPodInTwoAddressFamiliesOnce) {
  EndpointsTracker t;
  t.apply(slice("ADDED", "v4", {endpoint("1", "a", true)}), 1);
  auto s = t.apply(slice("ADDED", "v6", {endpoint("1", "a", true)}), 1);
  EXPECT_EQ(s.ready_total, 1);
}

TEST(EndpointsTracker, EndpointWithoutZoneIsUnknown) {
  EndpointsTracker t;
  auto s = t.apply(slice("ADDED", "s", {endpoint("1", "", true)}), 1);
  EXPECT_EQ(s.ready_by_zone.at(kUnknownZone), 1);
}

kube::WatchEvent node(const std::string& name, const std::string& zone) {
  json n = {{"metadata", {{"name", name}, {"labels", json::object()}}}};
  if (!zone.empty()) n["metadata"]["labels"]["topology.kubernetes.io/zone"] = zone;
  return {"ADDED", n};
}

kube::WatchEvent pod(const std::string& type, const std::string& name, const std::string& node,
                     bool ready, bool terminating = false) {
  json p = {
      {"metadata",
       {{"name", name},
        {"ownerReferences", {{{"kind", "ReplicaSet"}, {"name", "web-1"}, {"controller", true}}}}}},
      {"spec", {{"nodeName", node}}},
      {"status",
       {{"phase", "Running"},
        {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}};
  if (terminating) p["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z";
  return {type, p};
}

TEST(PodsTracker, EligibleZonesFollowThePodsNodeAffinity) {
  PodsTracker t;
  for (const char* z : {"zone-a", "zone-b", "zone-c", "zone-d"})
    t.apply_node(node(std::string("n-") + z, z), 0);
  auto e = pod("ADDED", "p1", "n-zone-b", true);
  e.object["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
          ["nodeSelectorTerms"] = json::array({{{"matchExpressions",
                                                 {{{"key", "topology.kubernetes.io/zone"},
                                                   {"operator", "In"},
                                                   {"values", {"zone-a", "zone-b", "zone-c"}}}}}}});
  auto u = t.apply_pod(e, 1);
  EXPECT_EQ(u.sample.eligible_zones, (std::set<std::string>{"zone-a", "zone-b", "zone-c"}));
  EXPECT_EQ(u.sample.ready_by_zone.at("zone-d"), 0);  // still shown, just not counted for skew
}

TEST(PodsTracker, CountsReadyPodsPerZoneFromTheNodeMap) {
  PodsTracker t;
  t.apply_node(node("n-a", "zone-a"), 0);
  t.apply_node(node("n-b", "zone-b"), 0);
  t.apply_node(node("n-c", "zone-c"), 0);
  t.apply_pod(pod("ADDED", "p1", "n-a", true), 1);
  t.apply_pod(pod("ADDED", "p2", "n-b", true), 1);
  auto u = t.apply_pod(pod("ADDED", "p3", "", false), 1);
  EXPECT_EQ(u.sample.ready, 2);
  EXPECT_EQ(u.sample.pending, 1);
  EXPECT_EQ(u.sample.ready_by_zone,
            (std::map<std::string, int>{{"zone-a", 1}, {"zone-b", 1}, {"zone-c", 0}}));
  EXPECT_EQ(u.sample.desired, 2);  // unresolved: the Ready pods
  t.set_desired(3);
  EXPECT_EQ(t.current(2).desired, 3);
}

TEST(PodsTracker, CountsPodsLeftOnFaultedZones) {
  PodsTracker t;
  t.apply_node(node("n-a", "zone-a"), 0);
  t.apply_node(node("n-b", "zone-b"), 0);
  t.apply_pod(pod("ADDED", "p1", "n-a", true), 1);
  t.apply_pod(pod("ADDED", "p2", "n-a", false), 1);
  t.apply_pod(pod("ADDED", "p3", "n-b", true), 1);
  EXPECT_EQ(t.current(2).on_faulted_zones, 0);
  t.set_faulted_zones({"zone-a"});
  EXPECT_EQ(t.current(2).on_faulted_zones, 2);
  auto u = t.apply_pod(pod("DELETED", "p1", "n-a", true), 3);
  EXPECT_EQ(u.sample.on_faulted_zones, 1);
}

TEST(PodsTracker, ReportsTheMomentAPodBecomesReady) {
  PodsTracker t;
  t.apply_node(node("n-b", "zone-b"), 0);
  auto u = t.apply_pod(pod("ADDED", "p1", "n-b", false), 1);
  EXPECT_FALSE(u.became_ready);
  EXPECT_TRUE(u.new_owner);
  u = t.apply_pod(pod("MODIFIED", "p1", "n-b", true), 4.25);
  ASSERT_TRUE(u.became_ready);
  EXPECT_EQ(u.became_ready->t, 4.25);
  EXPECT_EQ(u.became_ready->zone, "zone-b");
  EXPECT_FALSE(u.new_owner);
  u = t.apply_pod(pod("MODIFIED", "p1", "n-b", true), 5);
  EXPECT_FALSE(u.became_ready);  // already Ready
}

TEST(PodsTracker, TerminatingPodsAreNeitherReadyNorPresent) {
  PodsTracker t;
  t.apply_node(node("n-a", "zone-a"), 0);
  t.apply_pod(pod("ADDED", "p1", "n-a", true), 1);
  auto u = t.apply_pod(pod("MODIFIED", "p1", "n-a", true, /*terminating=*/true), 2);
  EXPECT_EQ(u.sample.ready, 0);
  EXPECT_EQ(u.sample.pods_by_zone.at("zone-a"), 0);
  u = t.apply_pod(pod("DELETED", "p1", "n-a", true, true), 3);
  EXPECT_EQ(u.sample.ready_by_zone.at("zone-a"), 0);
}

TEST(PodsTracker, ANodeSeenLateMovesItsPodsToTheirZone) {
  PodsTracker t;
  auto u = t.apply_pod(pod("ADDED", "p1", "n-late", true), 1);
  EXPECT_EQ(u.sample.ready_by_zone.at(kUnknownZone), 1);
  auto s = t.apply_node(node("n-late", "zone-z"), 2);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->ready_by_zone.at("zone-z"), 1);
  EXPECT_EQ(s->ready_by_zone.count(kUnknownZone), 0u);
}

TEST(PodsTracker, FallbackDesiredIsFrozenAtFaultStart) {
  PodsTracker t;
  t.apply_node(node("n", "z"), 0);
  t.apply_pod(pod("ADDED", "p1", "n", true), 1);
  t.apply_pod(pod("ADDED", "p2", "n", true), 1);
  t.freeze_desired_fallback();
  auto u = t.apply_pod(pod("DELETED", "p1", "n", true), 2);
  EXPECT_EQ(u.sample.ready, 1);
  EXPECT_EQ(u.sample.desired, 2);
}

TEST(PdbSample, ReadsTheDisruptionControllersStatus) {
  kube::WatchEvent e{"MODIFIED",
                     {{"metadata", {{"name", "web"}}},
                      {"status",
                       {{"desiredHealthy", 4},
                        {"currentHealthy", 5},
                        {"expectedPods", 6},
                        {"disruptionsAllowed", 1}}}}};
  auto s = pdb_sample(e, 3);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->name, "web");
  EXPECT_EQ(s->desired_healthy, 4);
  EXPECT_EQ(s->current_healthy, 5);
  EXPECT_EQ(s->disruptions_allowed, 1);
  EXPECT_FALSE(pdb_sample({"DELETED", e.object}, 4));
}

TEST(PdbSample, KeepsTheBudgetsOwnRule) {
  kube::WatchEvent min{"MODIFIED",
                       {{"metadata", {{"name", "web"}}}, {"spec", {{"minAvailable", 4}}}}};
  EXPECT_EQ(pdb_sample(min, 1)->rule, "minAvailable 4");
  kube::WatchEvent max{"MODIFIED",
                       {{"metadata", {{"name", "web"}}}, {"spec", {{"maxUnavailable", "25%"}}}}};
  EXPECT_EQ(pdb_sample(max, 1)->rule, "maxUnavailable 25%");
}

TEST(NodeZone, FallsBackToTheDeprecatedLabel) {
  EXPECT_EQ(
      node_zone({{"metadata", {{"labels", {{"failure-domain.beta.kubernetes.io/zone", "old"}}}}}}),
      "old");
  EXPECT_EQ(node_zone({{"metadata", {{"name", "x"}}}}), kUnknownZone);
}

}  // namespace
}  // namespace faultline::observe
