// chaos.kill_pods over a fake transport: a kill larger than what matches, or
// one taking every replica, is refused before anything is journaled; pods
// that were already gone or replaced are not counted as killed.
#include <gtest/gtest.h>

#include <algorithm>

#include "runner/chaos/chaos.h"
#include "runner/chaos/cluster_view.h"
#include "runner/common/error.h"
#include "tests/unit/chaos/fake_client.h"

namespace faultline::chaos {
namespace {

using faultline::testing::FakeTransport;
using json = nlohmann::json;

const std::string kPods = "/api/v1/namespaces/shop/pods";
const std::string kJournals = "/api/v1/namespaces/faultline/configmaps";

class KillPods : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = std::make_unique<kube::Client>(testing::fake_client(fake_));
    json items = json::array();
    for (int i = 0; i < 8; ++i)
      items.push_back({{"metadata",
                        {{"name", "p" + std::to_string(i)},
                         {"namespace", "shop"},
                         {"uid", "u" + std::to_string(i)},
                         {"labels", {{"app", "checkout"}}}}},
                       {"spec", {{"nodeName", "n1"}}}});
    fake_->on("GET", kPods, 200,
              json{{"items", items}, {"metadata", {{"resourceVersion", "1"}}}}.dump());
    fake_->on("POST", kJournals, 201, "{}");
    fake_->on("PUT", kJournals + "/faultline-journal-run-1", 200, "{}");
    for (int i = 2; i < 8; ++i) fake_->on("DELETE", kPods + "/p" + std::to_string(i), 200, "{}");
    fake_->on("DELETE", kPods + "/p0", 404, R"({"kind":"Status","code":404,"reason":"NotFound"})");
    fake_->on("DELETE", kPods + "/p1", 409, R"({"kind":"Status","code":409,"reason":"Conflict"})");
    journal_ = std::make_unique<Journal>(*client_, "faultline", "run-1", json::object());
    ChaosOptions o;
    o.run_id = "run-1";
    o.guards.namespaces = {"shop"};
    chaos_ = std::make_unique<Chaos>(*client_, *journal_, o);
  }

  KillOptions kill(std::optional<int> count) {
    KillOptions k;
    k.ns = "shop";
    k.selector = "app=checkout";
    k.count = count;
    return k;
  }

  std::shared_ptr<FakeTransport> fake_ = std::make_shared<FakeTransport>();
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<Chaos> chaos_;
};

TEST_F(KillPods, CountOverTheMatchingPods_IsRefusedBeforeAnythingIsTouched) {
  try {
    chaos_->kill_pods(kill(50));
    FAIL() << "not refused";
  } catch (const GuardError& e) {
    EXPECT_STREQ(e.what(),
                 "chaos.kill_pods: count 50 is more than the 8 matching pod(s) (selector "
                 "\"app=checkout\"); set "
                 "allow_all = true to kill them all");
  }
  EXPECT_EQ(fake_->sent().size(), fake_->count("GET", kPods));  // nothing but the list
}

TEST_F(KillPods, EveryReplica_IsRefusedUnlessAllowed) {
  try {
    chaos_->kill_pods(kill(8));
    FAIL() << "not refused";
  } catch (const GuardError& e) {
    EXPECT_STREQ(e.what(),
                 "chaos.kill_pods: killing 8 of 8 matching pod(s) would take every replica; set "
                 "allow_all = true "
                 "to allow it");
  }
  KillOptions percent = kill(std::nullopt);
  percent.percent = 100;
  EXPECT_THROW(chaos_->kill_pods(percent), GuardError);
  EXPECT_EQ(fake_->sent().size(), fake_->count("GET", kPods));

  KillOptions all = kill(8);
  all.allow_all = true;
  auto r = chaos_->kill_pods(all);
  EXPECT_EQ(r["matched"], 8);
  EXPECT_EQ(r["killed"].size(), 6u);  // p0 was gone, p1 replaced
}

TEST_F(KillPods, GoneOrReplacedPods_AreNotCountedAsKilled) {
  auto r = chaos_->kill_pods(kill(7));
  EXPECT_EQ(r["matched"], 8);
  size_t deletes = 0, not_ours = 0;
  for (const auto& s : fake_->sent()) {
    if (s.method != "DELETE") continue;
    ++deletes;
    if (s.path == kPods + "/p0" || s.path == kPods + "/p1") ++not_ours;
  }
  EXPECT_EQ(deletes, 7u);
  EXPECT_GE(not_ours, 1u);  // 7 of 8: at least one of p0/p1 was chosen
  EXPECT_EQ(r["killed"].size(), deletes - not_ours);
  for (const auto& name : r["killed"]) EXPECT_TRUE(name != "p0" && name != "p1") << name;
  for (const auto& e : journal_->entries())
    if (e.name == "p0" || e.name == "p1") {
      EXPECT_EQ(e.state, "skipped") << e.name;
    }
}

TEST(ProjectPodState, KeepsWhatThePodHelpersReadAndNothingElse) {
  json pod = {
      {"metadata",
       {{"name", "web-1"},
        {"namespace", "shop"},
        {"uid", "u1"},
        {"labels", {{"app", "web"}}},
        {"managedFields", json::array({{{"manager", "kubelet"}, {"fieldsV1", {{"f:x", {}}}}}})},
        {"ownerReferences",
         json::array({{{"kind", "ReplicaSet"}, {"name", "web-abc"}, {"controller", true}}})}}},
      {"spec",
       {{"nodeName", "zone-a-1"},
        {"containers", json::array({{{"name", "app"}, {"image", "registry.k8s.io/pause:3.10"}}})},
        {"volumes", json::array({{{"name", "token"}}})}}},
      {"status",
       {{"phase", "Running"},
        {"podIP", "10.0.0.1"},
        {"conditions", json::array({{{"type", "PodScheduled"}, {"status", "True"}},
                                    {{"type", "Ready"}, {"status", "True"}}})}}}};
  const json whole = pod;

  project_pod_state(pod);

  for (const json* p : std::initializer_list<const json*>{&whole, &pod}) {
    EXPECT_TRUE(pod_ready(*p));
    EXPECT_FALSE(pod_terminating(*p));
    EXPECT_EQ(pod_node(*p), "zone-a-1");
    EXPECT_EQ(pod_ref(*p), "shop/web-1");
    EXPECT_EQ(controller_kind(*p), "ReplicaSet");
  }
  EXPECT_EQ(pod["metadata"]["uid"], "u1");
  EXPECT_EQ(pod["status"]["phase"], "Running");
  EXPECT_FALSE(pod["metadata"].contains("managedFields"));
  EXPECT_FALSE(pod["metadata"].contains("labels"));
  EXPECT_FALSE(pod["spec"].contains("containers"));
  EXPECT_FALSE(pod["status"].contains("podIP"));
  EXPECT_EQ(pod["status"]["conditions"].size(), 1u);
}

}  // namespace
}  // namespace faultline::chaos
