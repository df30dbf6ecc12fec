// The client against the local control plane (tests/cluster): real
// kube-apiserver, controller-manager, scheduler and kwok nodes in three zones.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "runner/kube/client.h"
#include "tests/e2e/cluster_env.h"

namespace faultline::kube {
namespace {

using namespace std::chrono_literals;
using faultline::testing::cluster_client;
using faultline::testing::kubectl;

const char* kZoneLabel = "topology.kubernetes.io/zone";

// Polls until pred holds; fails the test with `what` after `limit`.
template <typename Pred>
bool eventually(Pred pred, const std::string& what, std::chrono::seconds limit = 90s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(200ms);
  }
  ADD_FAILURE() << "timed out waiting for " << what;
  return false;
}

std::string unique(const std::string& prefix) {
  std::random_device rd;
  return prefix + "-" + std::to_string(rd() % 1000000);
}

TEST(KubeE2E, ServerVersionAndNodesByZone) {
  auto client = cluster_client();
  EXPECT_EQ(client.server_version()["gitVersion"], "v1.36.3");

  ListOptions o;
  o.label_selector = std::string(kZoneLabel) + "=zone-a";
  o.limit = 2;  // three nodes: two pages, merged
  auto nodes = client.list(resources::kNodes, "", o);
  std::set<std::string> names;
  for (const auto& n : nodes["items"]) {
    names.insert(n["metadata"]["name"].get<std::string>());
    EXPECT_EQ(n["metadata"]["labels"][kZoneLabel], "zone-a");
  }
  EXPECT_EQ(names, (std::set<std::string>{"zone-a-1", "zone-a-2", "zone-a-3"}));
  EXPECT_FALSE(nodes["metadata"]["resourceVersion"].get<std::string>().empty());

  o.label_selector = std::string(kZoneLabel) + " in (zone-b,zone-c)";
  o.field_selector = "metadata.name!=zone-b-1";
  EXPECT_EQ(client.list(resources::kNodes, "", o)["items"].size(), 5u);
}

class CordonE2E : public ::testing::Test {
 protected:
  void TearDown() override {  // never leave a node cordoned
    client_.patch(resources::kNodes, "", "zone-b-1", {{"spec", {{"unschedulable", nullptr}}}});
  }
  Client client_ = cluster_client();
};

TEST_F(CordonE2E, CordonAndUncordonViaPatch) {
  auto node =
      client_.patch(resources::kNodes, "", "zone-b-1", {{"spec", {{"unschedulable", true}}}});
  EXPECT_EQ(node["spec"]["unschedulable"], true);
  EXPECT_EQ(kubectl("get node zone-b-1 -o jsonpath={.spec.unschedulable}"), "true");

  node = client_.patch(resources::kNodes, "", "zone-b-1", {{"spec", {{"unschedulable", nullptr}}}},
                       PatchType::StrategicMerge);
  EXPECT_FALSE(node["spec"].contains("unschedulable"));
  EXPECT_EQ(kubectl("get node zone-b-1 -o jsonpath={.spec.unschedulable}"), "");
}

TEST(KubeE2E, CreateConflictDeleteAndNotFound) {
  auto client = cluster_client();
  auto name = unique("cm");
  json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", name}}},
             {"data", {{"k", "v"}}}};
  auto created = client.create(resources::kConfigMaps, "default", cm);
  try {
    client.create(resources::kConfigMaps, "default", cm);
    FAIL() << "second create succeeded";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ApiError::Kind::Conflict);
    EXPECT_EQ(e.reason(), "AlreadyExists");
    EXPECT_EQ(e.name(), name);
  }
  // Replace guarded by resourceVersion; a stale one conflicts.
  created["data"]["k"] = "v2";
  auto replaced = client.replace(resources::kConfigMaps, "default", name, created);
  EXPECT_EQ(replaced["data"]["k"], "v2");
  EXPECT_THROW(client.replace(resources::kConfigMaps, "default", name, created), ApiError);

  DeleteOptions wrong;
  wrong.precondition_uid = "not-the-uid";
  try {
    client.remove(resources::kConfigMaps, "default", name, wrong);
    FAIL() << "delete with a wrong uid precondition succeeded";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ApiError::Kind::Conflict);
  }
  DeleteOptions right;
  right.precondition_uid = created["metadata"]["uid"];
  client.remove(resources::kConfigMaps, "default", name, right);
  try {
    client.get(resources::kConfigMaps, "default", name);
    FAIL() << "still there after delete";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ApiError::Kind::NotFound);
    EXPECT_EQ(e.verb(), "get");
    EXPECT_EQ(e.resource(), "configmaps");
  }
}

// A namespace with a 3-replica Deployment and a PDB (minAvailable 2).
// Pods become Ready 10s after scheduling (a kwok stage delay).
class WorkloadE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    ns_ = unique("kube-e2e");
    client_.create(resources::kNamespaces, "", {{"metadata", {{"name", ns_}}}});
    json deployment = {
        {"apiVersion", "apps/v1"},
        {"kind", "Deployment"},
        {"metadata", {{"name", "web"}}},
        {"spec",
         {{"replicas", 3},
          {"selector", {{"matchLabels", {{"app", "web"}}}}},
          {"template",
           // kwok makes a pod Ready this long after it is scheduled: a
           // replacement must not restore the PDB's budget within the test.
           {{"metadata",
             {{"labels", {{"app", "web"}}},
              {"annotations", {{"pod-ready.stage.kwok.x-k8s.io/delay", "10s"}}}}},
            {"spec",
             {{"containers",
               json::array({{{"name", "web"}, {"image", "registry.k8s.io/pause:3.9"}}})},
              {"terminationGracePeriodSeconds", 0}}}}}}}};
    client_.create(resources::kDeployments, ns_, deployment);
    json pdb = {{"apiVersion", "policy/v1"},
                {"kind", "PodDisruptionBudget"},
                {"metadata", {{"name", "web"}}},
                {"spec", {{"minAvailable", 2}, {"selector", {{"matchLabels", {{"app", "web"}}}}}}}};
    client_.create(resources::kPodDisruptionBudgets, ns_, pdb);
  }
  void TearDown() override {
    DeleteOptions o;
    o.propagation_policy = "Background";
    client_.remove(resources::kNamespaces, "", ns_, o);
  }

  std::vector<json> ready_pods() {
    ListOptions o;
    o.label_selector = "app=web";
    std::vector<json> ready;
    auto pods = client_.list(resources::kPods, ns_, o);  // named: items must outlive the loop
    for (const auto& p : pods["items"]) {
      if (p["metadata"].contains("deletionTimestamp")) continue;
      for (const auto& c : p["status"].value("conditions", json::array()))
        if (c["type"] == "Ready" && c["status"] == "True") ready.push_back(p);
    }
    return ready;
  }
  int disruptions_allowed() {
    auto pdb = client_.get(resources::kPodDisruptionBudgets, ns_, "web");
    return pdb.contains("status") ? pdb["status"].value("disruptionsAllowed", 0) : 0;
  }

  Client client_ = cluster_client();
  std::string ns_;
};

TEST_F(WorkloadE2E, EvictHonoursThePodDisruptionBudget) {
  ASSERT_TRUE(eventually([&] { return ready_pods().size() == 3; }, "3 ready pods"));
  ASSERT_TRUE(eventually([&] { return disruptions_allowed() == 1; }, "PDB to allow 1 disruption"));
  auto pods = ready_pods();
  client_.evict(ns_, pods[0]["metadata"]["name"]);
  try {
    client_.evict(ns_, pods[1]["metadata"]["name"]);
    FAIL() << "the PDB allowed a second eviction";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ApiError::Kind::TooManyRequests);
    EXPECT_EQ(e.http_status(), 429);
    EXPECT_EQ(e.verb(), "evict");
    EXPECT_EQ(e.name(), pods[1]["metadata"]["name"]);
    EXPECT_NE(e.message().find("disruption budget"), std::string::npos) << e.what();
  }
  // The evicted pod goes; the other stays.
  EXPECT_TRUE(eventually(
      [&] {
        try {
          client_.get(resources::kPods, ns_, pods[0]["metadata"]["name"]);
          return false;
        } catch (const ApiError& e) {
          return e.kind() == ApiError::Kind::NotFound;
        }
      },
      "the evicted pod to be gone"));
  EXPECT_EQ(client_.get(resources::kPods, ns_, pods[1]["metadata"]["name"])["metadata"]["uid"],
            pods[1]["metadata"]["uid"]);
}

TEST_F(WorkloadE2E, WatchSeesTheReplicaSetReplaceADeletedPod) {
  ASSERT_TRUE(eventually([&] { return ready_pods().size() == 3; }, "3 ready pods"));
  std::set<std::string> initial;
  for (const auto& p : ready_pods()) initial.insert(p["metadata"]["uid"]);

  std::string victim_uid, victim_name, replacement;
  bool victim_deleted = false;
  std::stop_source stop;
  std::jthread watchdog([&](std::stop_token done) {
    // Ends the watch if the replacement never comes (the test then fails).
    auto deadline = std::chrono::steady_clock::now() + 90s;
    while (!done.stop_requested() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(100ms);
    stop.request_stop();
  });
  size_t initial_seen = 0;
  ListOptions o;
  o.label_selector = "app=web";
  client_.watch(
      resources::kPods, ns_, o,
      [&](const WatchEvent& e) {
        auto uid = e.object["metadata"]["uid"].get<std::string>();
        if (e.type == "ADDED" && initial.count(uid) && ++initial_seen == initial.size()) {
          // Everything listed was delivered: now take one pod away.
          victim_uid = *initial.begin();
          for (const auto& p : ready_pods())
            if (p["metadata"]["uid"] == victim_uid) victim_name = p["metadata"]["name"];
          DeleteOptions now;
          now.grace_period_seconds = 0;
          client_.remove(resources::kPods, ns_, victim_name, now);
        }
        if (e.type == "DELETED" && uid == victim_uid) victim_deleted = true;
        if (e.type == "ADDED" && !initial.count(uid)) replacement = e.object["metadata"]["name"];
        return !(victim_deleted && !replacement.empty());
      },
      stop.get_token());
  watchdog.request_stop();
  EXPECT_FALSE(victim_name.empty());
  EXPECT_TRUE(victim_deleted) << "no DELETED event for " << victim_name;
  EXPECT_FALSE(replacement.empty()) << "no ADDED event for a replacement pod";
  EXPECT_NE(replacement, victim_name);
  EXPECT_TRUE(eventually([&] { return ready_pods().size() == 3; }, "3 ready pods again"));
}

}  // namespace
}  // namespace faultline::kube
