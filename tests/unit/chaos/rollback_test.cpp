// Rollback under a deadline: every request is capped by the time left (one
// undo's retries cannot run past the Job's grace period), and the journal is
// persisted after every round.
#include "runner/chaos/rollback.h"

#include <gtest/gtest.h>

#include "tests/unit/chaos/fake_client.h"

namespace faultline::chaos {
namespace {

using faultline::testing::FakeTransport;
using namespace std::chrono_literals;

TEST(Rollback, EveryRequestIsCappedByTheTimeLeftAndEachRoundIsPersisted) {
  auto fake = std::make_shared<FakeTransport>();
  fake->on("GET", "/api/v1/nodes/n1", 500,
           R"({"kind":"Status","code":500,"reason":"InternalError"})");
  kube::ClientConfig c;
  c.server = "https://127.0.0.1:1";
  c.qps = 0;
  c.max_retries = 5;  // what a Client has by default; the rollback must not let them run on
  kube::Client client(c, fake);
  std::vector<JournalEntry> entries = {{1, "cordon", "node", "", "n1", "", "applied", "", 0, -1}};
  int rounds = 0;
  auto started = std::chrono::steady_clock::now();

  auto outcome = rollback_entries(
      client, "run-1", entries, [] { return 0.0; }, 2s, 1, {}, [&] { ++rounds; });

  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_FALSE(outcome.complete);
  EXPECT_LT(took, 3s);
  EXPECT_GE(rounds, 2);
  EXPECT_EQ(static_cast<size_t>(rounds),
            fake->count("GET", "/api/v1/nodes/n1"));  // no hidden retries
  for (const auto& r : fake->sent()) EXPECT_LE(r.timeout, 2000ms);
}

// A restore drill's entries are runner/dr's to undo (in the cluster each
// names): rollback_entries sends nothing for them and leaves their state, so
// a journal kept for `faultline recover` still holds them.
TEST(Rollback, ARestoreDrillsEntriesAreLeftToTheirOwner) {
  auto fake = std::make_shared<FakeTransport>();
  kube::ClientConfig c;
  c.server = "https://127.0.0.1:1";
  kube::Client client(c, fake);
  std::vector<JournalEntry> entries(2);
  entries[0] = {1, "create", "velero.io/backup", "velero", "b1", "", "applied", "", 0, -1};
  entries[1] = {2, "create", "namespace", "", "shop", "", "failed", "", 0, -1};
  entries[1].cluster = "dr-region";
  entries[1].context = "region-b";

  auto outcome = rollback_entries(
      client, "run-1", entries, [] { return 0.0; }, 2s, 1);

  EXPECT_TRUE(outcome.complete);
  EXPECT_TRUE(fake->sent().empty());
  EXPECT_EQ(entries[0].state, "applied");
  EXPECT_EQ(entries[1].state, "failed");
}

TEST(Journal, AnEntryKeepsItsClusterAndContextAndANodeEntryStaysAsSmall) {
  JournalEntry e{3, "create", "namespace", "", "shop", "", "applied", "", 1, -1};
  e.cluster = "dr-region";
  e.context = "region-b";
  json j = e;
  EXPECT_EQ(j.value("cluster", ""), "dr-region");
  EXPECT_EQ(j.get<JournalEntry>().context, "region-b");
  json node = JournalEntry{1, "cordon", "node", "", "n1", "", "applied", "", 0, -1};
  EXPECT_FALSE(node.contains("cluster"));
  EXPECT_FALSE(node.contains("context"));
}

}  // namespace
}  // namespace faultline::chaos

namespace faultline::chaos {
namespace {

// A pod the run created (a vantage probe pod) is deleted at once, without
// grace; one already gone counts as reverted.
TEST(Rollback, DeletesThePodsTheRunCreated) {
  auto fake = std::make_shared<faultline::testing::FakeTransport>();
  fake->on("DELETE", "/api/v1/namespaces/faultline/pods/vp-a", 200, R"({"kind":"Pod"})");
  fake->on("DELETE", "/api/v1/namespaces/faultline/pods/vp-b", 404,
           R"({"kind":"Status","code":404,"reason":"NotFound"})");
  kube::Client client = testing::fake_client(fake);
  std::vector<JournalEntry> entries = {
      {1, "create", "pod", "faultline", "vp-a", "", "applied", "", 0, -1},
      {2, "create", "pod", "faultline", "vp-b", "", "intended", "", 0, -1}};
  auto outcome = rollback_entries(client, "run-1", entries, [] { return 1.0; }, 10s, 2, {});
  EXPECT_TRUE(outcome.complete);
  EXPECT_EQ(entries[0].state, "reverted");
  EXPECT_EQ(entries[1].state, "reverted");
  ASSERT_EQ(fake->count("DELETE", "/api/v1/namespaces/faultline/pods/vp-a"), 1u);
  for (const auto& r : fake->sent())
    EXPECT_NE(r.body.find("\"gracePeriodSeconds\":0"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace faultline::chaos

namespace faultline::chaos {
namespace {

// Many node undos: one list of the nodes, then one PATCH per node from it (no
// GET each); a node the list does not have is read by itself.
TEST(Rollback, ManyNodeUndosListTheNodesOnceAndPatchEachFromTheList) {
  auto fake = std::make_shared<faultline::testing::FakeTransport>();
  const int n = 20;
  json items = json::array();
  std::vector<JournalEntry> entries;
  for (int i = 0; i < n; ++i) {
    std::string name = "n" + std::to_string(i);
    items.push_back({{"metadata",
                      {{"name", name},
                       {"resourceVersion", std::to_string(100 + i)},
                       {"annotations", {{kCordonedAnnotation, "run-1"}}}}},
                     {"spec", {{"unschedulable", true}}}});
    fake->on("PATCH", "/api/v1/nodes/" + name, 200, "{}");
    entries.push_back({i + 1, "cordon", "node", "", name, "", "applied", "", 0, -1});
  }
  // One more, gone from the list (deleted meanwhile): read by itself.
  entries.push_back({n + 1, "cordon", "node", "", "gone", "", "applied", "", 0, -1});
  fake->on(
      "GET", "/api/v1/nodes", 200,
      json({{"kind", "NodeList"}, {"metadata", {{"resourceVersion", "200"}}}, {"items", items}})
          .dump());
  kube::Client client = testing::fake_client(fake);

  auto outcome = rollback_entries(client, "run-1", entries, [] { return 1.0; }, 10s, 4, {});

  EXPECT_TRUE(outcome.complete);
  EXPECT_EQ(fake->count("GET", "/api/v1/nodes"), 1u);
  EXPECT_EQ(fake->count("GET", "/api/v1/nodes/gone"), 1u);  // 404 from the fake: gone
  for (int i = 0; i < n; ++i) {
    std::string name = "n" + std::to_string(i);
    EXPECT_EQ(fake->count("GET", "/api/v1/nodes/" + name), 0u) << name;
    ASSERT_EQ(fake->count("PATCH", "/api/v1/nodes/" + name), 1u) << name;
  }
  for (const auto& r : fake->sent()) {
    if (r.method == "PATCH" && r.path == "/api/v1/nodes/n3") {
      EXPECT_EQ(json::parse(r.body)[0],
                json::parse(R"({"op":"test","path":"/spec","value":{"unschedulable":true}})"));
    }
  }
  for (const auto& e : entries) EXPECT_EQ(e.state, "reverted") << e.name;
}

TEST(Rollback, TheCallersNodeListServesTheFirstRoundWithoutAListOfItsOwn) {
  auto fake = std::make_shared<faultline::testing::FakeTransport>();
  json listed = json::array();
  std::vector<JournalEntry> entries;
  for (int i = 0; i < 3; ++i) {  // below kListNodesFrom: without the list, a GET each
    std::string name = "n" + std::to_string(i);
    listed.push_back(
        {{"metadata", {{"name", name}, {"annotations", {{kCordonedAnnotation, "run-1"}}}}},
         {"spec", {{"unschedulable", true}}}});
    fake->on("PATCH", "/api/v1/nodes/" + name, 200, "{}");
    entries.push_back({i + 1, "cordon", "node", "", name, "", "applied", "", 0, -1});
  }
  kube::Client client = testing::fake_client(fake);

  auto outcome = rollback_entries(
      client, "run-1", entries, [] { return 1.0; }, 10s, 2, {}, {}, &listed);

  EXPECT_TRUE(outcome.complete);
  EXPECT_EQ(fake->count("GET", "/api/v1/nodes"), 0u);
  for (int i = 0; i < 3; ++i) {
    std::string name = "n" + std::to_string(i);
    EXPECT_EQ(fake->count("GET", "/api/v1/nodes/" + name), 0u) << name;
    EXPECT_EQ(fake->count("PATCH", "/api/v1/nodes/" + name), 1u) << name;
  }
  for (const auto& e : entries) EXPECT_EQ(e.state, "reverted") << e.name;
}

}  // namespace
}  // namespace faultline::chaos
