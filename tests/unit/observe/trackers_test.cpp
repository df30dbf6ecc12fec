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
                     {{"metadata", {{"name", "web"}, {"namespace", "shop"}}},
                      {"status",
                       {{"desiredHealthy", 4},
                        {"currentHealthy", 5},
                        {"expectedPods", 6},
                        {"disruptionsAllowed", 1}}}}};
  auto s = pdb_sample(e, 3);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->name, "web");
  EXPECT_EQ(s->ns, "shop");
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

namespace faultline::observe {
namespace {

// A pod as the API server sends it (kwok node, Deployment-owned), with the
// bulk the trackers never read: managedFields, containers, volumes, the
// other conditions, containerStatuses.
json full_pod(const std::string& name, const std::string& node, bool ready) {
  json p = pod("ADDED", name, node, ready).object;
  p["metadata"]["uid"] = "0f6c7a52-1c4e-4d0e-9a57-" + name;
  p["metadata"]["namespace"] = "shop";
  p["metadata"]["resourceVersion"] = "123456";
  p["metadata"]["labels"] = {{"app", "web"}, {"pod-template-hash", "7d4b9c8f6d"}};
  p["metadata"]["ownerReferences"][0]["uid"] = "5e1d";
  p["metadata"]["ownerReferences"].push_back({{"kind", "Other"}, {"name", "x"}});
  p["metadata"]["managedFields"] = json::array();
  for (const char* m : {"kube-controller-manager", "kube-scheduler", "kwok"})
    p["metadata"]["managedFields"].push_back(
        {{"manager", m},
         {"operation", "Update"},
         {"fieldsV1",
          {{"f:metadata", {{"f:labels", {{"f:app", json::object()}}}}},
           {"f:spec", {{"f:containers", {{"k:{\"name\":\"web\"}", json::object()}}}}}}}});
  p["spec"]["containers"] = {
      {{"name", "web"},
       {"image", "registry.k8s.io/pause:3.10"},
       {"resources", {{"requests", {{"cpu", "10m"}, {"memory", "16Mi"}}}}},
       {"volumeMounts", {{{"name", "kube-api-access-x"}, {"mountPath", "/var/run"}}}}}};
  p["spec"]["volumes"] = {{{"name", "kube-api-access-x"}, {"projected", {{"defaultMode", 420}}}}};
  p["spec"]["tolerations"] = {{{"key", "node.kubernetes.io/not-ready"}, {"operator", "Exists"}}};
  p["spec"]["topologySpreadConstraints"] = {{{"maxSkew", 1},
                                             {"topologyKey", "topology.kubernetes.io/zone"},
                                             {"whenUnsatisfiable", "DoNotSchedule"}}};
  p["status"]["conditions"].insert(p["status"]["conditions"].begin(),
                                   json::object({{"type", "PodScheduled"}, {"status", "True"}}));
  p["status"]["containerStatuses"] = {{{"name", "web"}, {"ready", ready}, {"restartCount", 0}}};
  p["status"]["podIP"] = "10.0.0.7";
  return p;
}

TEST(Projection, ThePodsTrackerSeesTheSameThroughTheCompactView) {
  PodsTracker whole, compact;
  for (auto* t : {&whole, &compact}) {
    t->apply_node(node("n-a", "zone-a"), 0);
    t->apply_node(node("n-b", "zone-b"), 0);
  }
  size_t full_bytes = 0, kept_bytes = 0;
  for (int i = 0; i < 6; ++i) {
    auto p = full_pod("p" + std::to_string(i), i % 2 ? "n-a" : "n-b", i != 3);
    if (i == 5) p["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z";
    auto q = p;
    project_pod(q);
    full_bytes += p.dump().size();
    kept_bytes += q.dump().size();
    auto a = whole.apply_pod({"ADDED", p}, 1), b = compact.apply_pod({"ADDED", q}, 1);
    EXPECT_EQ(a.new_owner, b.new_owner);
    EXPECT_EQ(a.became_ready.has_value(), b.became_ready.has_value());
    EXPECT_EQ(a.sample.ready_by_zone, b.sample.ready_by_zone);
    EXPECT_EQ(a.sample.pods_by_zone, b.sample.pods_by_zone);
    EXPECT_EQ(a.sample.eligible_zones, b.sample.eligible_zones);
    EXPECT_EQ(a.sample.ready, b.sample.ready);
  }
  EXPECT_EQ(whole.owners(), compact.owners());
  EXPECT_EQ(compact.current(2).ready, 4);
  EXPECT_LT(kept_bytes * 2, full_bytes) << kept_bytes << " of " << full_bytes;

  json n = {
      {"metadata", {{"name", "n-a"}, {"labels", {{"topology.kubernetes.io/zone", "zone-a"}}}}},
      {"spec", {{"taints", json::array()}, {"podCIDR", "10.0.0.0/24"}}},
      {"status", {{"images", json::array({{{"names", {"a"}}}})}}}};
  project_node(n);
  EXPECT_EQ(node_zone(n), "zone-a");
  EXPECT_FALSE(n.contains("status"));
  EXPECT_TRUE(n["spec"].contains("taints"));
}

}  // namespace
}  // namespace faultline::observe

namespace faultline::observe {
namespace {

// The counts are kept incrementally (a sample is O(zones)); after any mix of
// adds, moves, readiness flips, terminations, deletions and nodes seen late
// they equal a count from scratch.
TEST(PodsTracker, IncrementalCountsEqualACountFromScratch) {
  PodsTracker t;
  std::map<std::string, std::string> zone_of = {{"n-a", "zone-a"}, {"n-b", "zone-b"}};
  t.apply_node(node("n-a", "zone-a"), 0);
  t.apply_node(node("n-b", "zone-b"), 0);
  struct P {
    std::string node;
    bool ready = false, terminating = false;
  };
  std::map<std::string, P> truth;
  unsigned seed = 7;
  auto rnd = [&](unsigned n) { return (seed = seed * 1103515245u + 12345u) / 65536u % n; };
  const char* nodes[] = {"n-a", "n-b", "n-c", ""};  // n-c: a node seen late
  for (int step = 0; step < 2000; ++step) {
    std::string name = "p" + std::to_string(rnd(40));
    if (step == 1000) {
      t.apply_node(node("n-c", "zone-c"), step);
      zone_of["n-c"] = "zone-c";
    }
    if (rnd(5) == 0) {
      t.apply_pod(pod("DELETED", name, "", false), step);
      truth.erase(name);
      continue;
    }
    P p{nodes[rnd(4)], rnd(2) == 0, rnd(6) == 0};
    t.apply_pod(pod(truth.count(name) ? "MODIFIED" : "ADDED", name, p.node, p.ready, p.terminating),
                step);
    truth[name] = p;
  }
  int ready = 0, pending = 0;
  std::map<std::string, int> by_zone, present;
  for (const auto& [name, p] : truth) {
    if (p.terminating) continue;
    if (p.node.empty()) {
      ++pending;
      continue;
    }
    std::string z = zone_of.count(p.node) ? zone_of[p.node] : kUnknownZone;
    ++present[z];
    if (p.ready) ++ready, ++by_zone[z];
  }
  auto s = t.current(3000);
  EXPECT_EQ(s.ready, ready);
  EXPECT_EQ(s.pending, pending);
  for (const auto& z : {"zone-a", "zone-b", "zone-c"}) {
    EXPECT_EQ(s.pods_by_zone[z], present[z]) << z;
    EXPECT_EQ(s.ready_by_zone[z], by_zone[z]) << z;
  }
  EXPECT_FALSE(s.pods_by_zone.count(kUnknownZone));  // n-c is known by now
}

}  // namespace
}  // namespace faultline::observe
