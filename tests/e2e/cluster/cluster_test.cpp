// The local control plane behaves like Kubernetes on the paths faultline
// depends on: topology spread, PDB-guarded eviction, re-placement after a
// cordon, and node failure by heartbeat loss.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <thread>

#include "runner/chaos/cluster_view.h"
#include "tests/e2e/cluster_env.h"

namespace faultline::testing {
namespace {

using json = nlohmann::json;
namespace res = kube::resources;
using Kind = kube::ApiError::Kind;

constexpr const char* kNs = "cluster-e2e";
constexpr const char* kManifest = R"(
apiVersion: v1
kind: Namespace
metadata: { name: cluster-e2e }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: cluster-e2e }
spec:
  replicas: 6
  selector: { matchLabels: { app: web } }
  template:
    metadata:
      labels: { app: web }
      # kwok: replacements turn Ready 5s after they start, as a real app
      # would, so the PDB budget is not restored between evictions.
      annotations: { pod-ready.stage.kwok.x-k8s.io/delay: "5s" }
    spec:
      topologySpreadConstraints:
        - { maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule,
            nodeTaintsPolicy: Honor, labelSelector: { matchLabels: { app: web } } }
      containers: [{ name: web, image: registry.k8s.io/pause:3.10 }]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: web, namespace: cluster-e2e }
spec: { minAvailable: 4, selector: { matchLabels: { app: web } } }
)";

bool eventually(const std::function<bool()>& condition, double seconds) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return condition();
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string manifest = ::testing::TempDir() + "cluster-e2e.yaml";
    FILE* f = std::fopen(manifest.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(kManifest, f);
    std::fclose(f);
    kubectl("apply -f " + manifest);
  }
  void TearDown() override {
    kubectl(std::string("delete deployment,pdb -n ") + kNs + " --all --wait=true");
    kubectl(std::string("wait --for=delete pods -n ") + kNs + " --all --timeout=60s");
    for (const char* zone : {"zone-a"}) {
      run(cluster_script("zone.sh") + " restore " + zone + " --state " + cluster_state_dir());
      kubectl(std::string("uncordon -l topology.kubernetes.io/zone=") + zone);
    }
    kubectl("wait --for=condition=Ready nodes --all --timeout=60s");
  }

  std::map<std::string, int> ready_by_zone() {
    std::map<std::string, int> out;
    kube::ListOptions list;
    list.label_selector = "app=web";
    for (const auto& p : chaos::items(client_.list(res::kPods, kNs, list)))
      if (chaos::pod_ready(p)) ++out[view_.zone_of_node(chaos::pod_node(p))];
    return out;
  }
  std::vector<json> ready_pods() {
    std::vector<json> out;
    kube::ListOptions list;
    list.label_selector = "app=web";
    for (const auto& p : chaos::items(client_.list(res::kPods, kNs, list)))
      if (chaos::pod_ready(p)) out.push_back(p);
    return out;
  }

  kube::Client client_ = cluster_client();
  chaos::ClusterView view_{client_};
};

TEST_F(ClusterTest, SpreadDeploymentBecomesSixReadyPodsTwoPerZone) {
  ASSERT_TRUE(eventually([&] { return ready_pods().size() == 6; }, 60)) << kubectl("get pods -n cluster-e2e -o wide");
  auto zones = ready_by_zone();
  EXPECT_EQ(zones, (std::map<std::string, int>{{"zone-a", 2}, {"zone-b", 2}, {"zone-c", 2}}));
}

TEST_F(ClusterTest, ThirdConcurrentEvictionIsRefusedWith429ByThePdb) {
  ASSERT_TRUE(eventually([&] { return ready_pods().size() == 6; }, 60));
  ASSERT_TRUE(eventually([&] {
    auto pdb = client_.get(res::kPodDisruptionBudgets, kNs, "web");
    return pdb.value("status", json::object()).value("disruptionsAllowed", 0) == 2;
  }, 30));
  auto pods = ready_pods();
  std::vector<int> status(3, 0);
  std::vector<std::jthread> evictions;
  for (int i = 0; i < 3; ++i) {
    evictions.emplace_back([&, i] {
      try {
        client_.evict(kNs, pods[i]["metadata"]["name"].get<std::string>());
        status[i] = 201;
      } catch (const kube::ApiError& e) {
        status[i] = e.http_status();
      }
    });
  }
  evictions.clear();  // join
  std::sort(status.begin(), status.end());
  EXPECT_EQ(status, (std::vector<int>{201, 201, 429}));
}

TEST_F(ClusterTest, CordonedZonePodsAreReplacedInOtherZonesAndBecomeReady) {
  ASSERT_TRUE(eventually([&] { return ready_pods().size() == 6; }, 60));
  kubectl("cordon -l topology.kubernetes.io/zone=zone-a");
  for (const auto& p : ready_pods())
    if (view_.zone_of_node(chaos::pod_node(p)) == "zone-a")
      client_.remove(res::kPods, kNs, p["metadata"]["name"].get<std::string>());
  ASSERT_TRUE(eventually([&] {
    auto zones = ready_by_zone();
    return zones["zone-a"] == 0 && zones["zone-b"] + zones["zone-c"] == 6;
  }, 60)) << kubectl("get pods -n cluster-e2e -o wide");
  auto zones = ready_by_zone();
  EXPECT_EQ(zones["zone-b"], 3);
  EXPECT_EQ(zones["zone-c"], 3);
}

TEST_F(ClusterTest, FailedZoneNodesTurnNotReadyAndGetTheUnreachableTaint) {
  std::string out;
  ASSERT_EQ(run(cluster_script("zone.sh") + " fail zone-a --state " + cluster_state_dir(), &out), 0) << out;
  auto unreachable = [&](const json& n) {
    bool tainted = false, not_ready = false;
    for (const auto& t : n["spec"].value("taints", json::array()))
      tainted = tainted || (t.value("key", "") == "node.kubernetes.io/unreachable" && t.value("effect", "") == "NoExecute");
    for (const auto& c : n["status"].value("conditions", json::array()))
      if (c.value("type", "") == "Ready") not_ready = c.value("status", "") != "True";
    return tainted && not_ready;
  };
  ASSERT_TRUE(eventually([&] {
    int n = 0;
    for (const auto& node : view_.nodes_in_zone("zone-a")) n += unreachable(node);
    return n == 3;
  }, 60)) << kubectl("get nodes -o wide");
  for (const auto& node : view_.nodes_in_zone("zone-b")) EXPECT_FALSE(unreachable(node));
  ASSERT_EQ(run(cluster_script("zone.sh") + " restore zone-a --state " + cluster_state_dir(), &out), 0) << out;
  EXPECT_TRUE(eventually([&] {
    int n = 0;
    for (const auto& node : view_.nodes_in_zone("zone-a")) n += unreachable(node);
    return n == 0;
  }, 60)) << kubectl("get nodes");
}

}  // namespace
}  // namespace faultline::testing
