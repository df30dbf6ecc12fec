// The drain's eviction loop over a fake transport, as kubectl drain behaves:
// PDB refusals retried (429, 429, then 201), a UID precondition on every
// eviction, every pod evicted before the one wait, pods not gone at the
// deadline reported as such, a 404 counted as gone only when the pod is, and
// emptyDir pods skipped unless asked for.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "runner/chaos/chaos.h"
#include "runner/common/error.h"
#include "tests/unit/chaos/fake_client.h"

namespace faultline::chaos {
namespace {

using faultline::testing::FakeTransport;
using json = nlohmann::json;
using namespace std::chrono_literals;

const std::string kShopPods = "/api/v1/namespaces/shop/pods";

json pod(const std::string& name, bool emptydir = false) {
  json p = {{"metadata",
             {{"name", name},
              {"namespace", "shop"},
              {"uid", "uid-" + name},
              {"ownerReferences",
               json::array({{{"kind", "ReplicaSet"}, {"name", "rs"}, {"controller", true}}})}}},
            {"spec", {{"nodeName", "n1"}, {"volumes", json::array()}}},
            {"status", {{"phase", "Running"}}}};
  if (emptydir) p["spec"]["volumes"].push_back({{"name", "scratch"}, {"emptyDir", json::object()}});
  return p;
}

std::string status(int code, const char* reason) {
  return json{{"kind", "Status"}, {"code", code}, {"reason", reason}, {"message", reason}}.dump();
}

class Drain : public ::testing::Test {
 protected:
  // n1 (zone-a) holds `pods`; zones b and c have a node each.
  void start(const std::vector<json>& pods, size_t concurrency = 8,
             const std::set<std::string>& cordoned = {}) {
    client_ = std::make_unique<kube::Client>(testing::fake_client(fake_));
    json nodes = json::array();
    for (auto [n, z] : {std::pair{"n1", "zone-a"}, {"n2", "zone-b"}, {"n3", "zone-c"}})
      nodes.push_back({{"metadata", {{"name", n}, {"labels", {{kZoneLabel, z}}}}},
                       {"spec", {{"unschedulable", cordoned.count(n) > 0}}}});
    fake_->on("GET", "/api/v1/nodes", 200, json{{"items", nodes}}.dump());
    fake_->on("GET", "/api/v1/nodes/n1", 200,
              json{{"metadata", {{"name", "n1"}, {"resourceVersion", "1"}}}}.dump());
    fake_->on("PATCH", "/api/v1/nodes/n1", 200, "{}");
    fake_->on("POST", "/api/v1/namespaces/faultline/configmaps", 201, "{}");
    fake_->on("PUT", "/api/v1/namespaces/faultline/configmaps/faultline-journal-run-1", 200, "{}");
    fake_->on("GET", "/api/v1/pods", 200, json{{"items", pods}}.dump());
    journal_ = std::make_unique<Journal>(*client_, "faultline", "run-1", json::object());
    ChaosOptions o;
    o.run_id = "run-1";
    o.guards.namespaces = {"shop"};
    o.concurrency = concurrency;
    chaos_ = std::make_unique<Chaos>(*client_, *journal_, o);
  }
  void eviction(const std::string& name, int code, const char* reason = "") {
    fake_->on("POST", kShopPods + "/" + name + "/eviction", code,
              code == 201 ? "{}" : status(code, reason));
  }
  void get_pod(const std::string& name, const json& body) {
    fake_->on("GET", kShopPods + "/" + name, 200, body.dump());
  }
  void pod_deleted(const std::string& name) {
    fake_->on("GET", kShopPods + "/" + name, 404, status(404, "NotFound"));
  }
  json drain(double timeout_seconds = 5, bool emptydir = false) {
    DrainOptions d;
    d.timeout = std::chrono::duration<double>(timeout_seconds);
    d.delete_emptydir_data = emptydir;
    return chaos_->drain_node("n1", d);
  }

  std::shared_ptr<FakeTransport> fake_ = std::make_shared<FakeTransport>();
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<Chaos> chaos_;
};

TEST_F(Drain, RetriesWhilePdbForbids_429_429_Then201_WithAUidPrecondition) {
  start({pod("p0")});
  eviction("p0", 429, "TooManyRequests");
  eviction("p0", 429, "TooManyRequests");
  eviction("p0", 201);
  get_pod("p0", pod("p0"));
  pod_deleted("p0");

  auto r = drain();

  EXPECT_EQ(r["evicted"], json::array({"shop/p0"})) << r.dump();
  EXPECT_EQ(r["pdb_refusals"], 2);
  EXPECT_EQ(fake_->count("POST", kShopPods + "/p0/eviction"), 3u);
  for (const auto& s : fake_->sent()) {
    if (s.method == "POST" && s.path == kShopPods + "/p0/eviction") {
      EXPECT_EQ(json::parse(s.body)["deleteOptions"]["preconditions"]["uid"], "uid-p0") << s.body;
    }
  }
}

TEST_F(Drain, EvictsEveryPodBeforeWaitingForAny) {
  start({pod("p0"), pod("p1"), pod("p2")}, 1);
  for (const char* p : {"p0", "p1", "p2"}) {
    eviction(p, 201);
    get_pod(p, pod(p));
    pod_deleted(p);
  }

  auto r = drain();

  EXPECT_EQ(r["evicted"].size(), 3u) << r.dump();
  auto sent = fake_->sent();
  size_t last_eviction = 0, first_wait = sent.size();
  for (size_t i = 0; i < sent.size(); ++i) {
    if (sent[i].path.find("/eviction") != std::string::npos) last_eviction = i;
    if (sent[i].method == "GET" && sent[i].path.rfind(kShopPods + "/", 0) == 0)
      first_wait = std::min(first_wait, i);
  }
  EXPECT_LT(last_eviction, first_wait);
}

TEST_F(Drain, PodNotGoneAtTheDeadline_IsReportedAsNotGoneNotEvicted) {
  start({pod("p0")});
  eviction("p0", 201);
  get_pod("p0", pod("p0"));  // forever

  auto started = std::chrono::steady_clock::now();
  auto r = drain(1);

  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_EQ(r["evicted"], json::array());
  EXPECT_EQ(r["not_gone"], json::array({"shop/p0"}));
  bool noted = false;
  for (const auto& e : journal_->entries())
    noted = noted || e.note == "evicted, not gone at the drain timeout";
  EXPECT_TRUE(noted);
}

TEST_F(Drain, Eviction404WhileThePodIsStillThere_IsAFailureNotGone) {
  start({pod("p0")});
  eviction("p0", 404, "NotFound");
  get_pod("p0", pod("p0"));

  auto r = drain(1);

  EXPECT_EQ(r["evicted"], json::array());
  ASSERT_EQ(r["failed"].size(), 1u) << r.dump();
  EXPECT_NE(r["failed"][0].value("error", "").find("answered 404 but the pod is still there"),
            std::string::npos);
}

TEST_F(Drain, PodReplacedUnderItsName_IsGoneAndTheReplacementIsNotEvicted) {
  start({pod("p0")});
  eviction("p0", 409, "Conflict");  // the UID precondition failed
  json replacement = pod("p0");
  replacement["metadata"]["uid"] = "uid-new";
  get_pod("p0", replacement);

  auto r = drain();

  EXPECT_EQ(r["evicted"], json::array({"shop/p0"})) << r.dump();
  EXPECT_EQ(fake_->count("POST", kShopPods + "/p0/eviction"), 1u);
}

TEST_F(Drain, EmptyDirPod_IsSkippedWithAReasonUnlessAskedFor) {
  start({pod("p0", true)});
  eviction("p0", 201);
  pod_deleted("p0");

  auto r = drain();

  ASSERT_EQ(r["skipped"].size(), 1u) << r.dump();
  EXPECT_EQ(
      r["skipped"][0]["reason"],
      "uses emptyDir (its data would be lost; drain option delete_emptydir_data = true evicts it)");
  EXPECT_EQ(fake_->count("POST", kShopPods + "/p0/eviction"), 0u);

  auto again = drain(5, true);
  EXPECT_EQ(again["evicted"], json::array({"shop/p0"})) << again.dump();
}

TEST_F(Drain, FailZoneWithCollateral_IsRefusedBeforeAnyTaintUnlessAccepted) {
  json daemon = pod("p0");
  daemon["metadata"]["namespace"] = "kube-system";
  daemon["metadata"]["name"] = "kube-proxy-x";
  start({pod("p1"), daemon});
  try {
    chaos_->fail_zone("zone-a");
    FAIL() << "not refused";
  } catch (const GuardError& e) {
    EXPECT_STREQ(e.what(),
                 "guard: failing zone zone-a would evict 1 pod(s) outside guards.namespaces "
                 "(kube-system/kube-proxy-x); set guards.allow_collateral: true to accept that");
  }
  EXPECT_EQ(fake_->count("PATCH", "/api/v1/nodes/n1"), 0u);
}

TEST_F(Drain, MaxNodeFraction_CountsNodesAlreadyCordonedByOthers) {
  start({}, 8, {"n2"});  // an operator's cordon: with n1, 2 of 3 nodes > 50%
  try {
    chaos_->cordon_node("n1");
    FAIL() << "not refused";
  } catch (const GuardError& e) {
    EXPECT_STREQ(e.what(),
                 "guard max_node_fraction: 2 of 3 nodes (67%) would be faulted, the limit is 50%");
  }
  EXPECT_EQ(fake_->count("PATCH", "/api/v1/nodes/n1"), 0u);
}

}  // namespace
}  // namespace faultline::chaos
