// `faultline recover` for a restore drill's journal entries (dr::drill_undo):
// each is undone in the cluster it names, reached through the context its
// entry recorded or the one --context-for gives; a cluster it cannot reach
// leaves the entry failed with what to pass, and nothing is sent.
#include "runner/dr/recover.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "runner/common/error.h"
#include "tests/unit/chaos/fake_client.h"

namespace faultline::dr {
namespace {

using chaos::JournalEntry;
using faultline::testing::FakeTransport;
using namespace std::chrono_literals;

struct DrillUndo : ::testing::Test {
  std::shared_ptr<FakeTransport> home = std::make_shared<FakeTransport>();
  std::string kubeconfig = ::testing::TempDir() + "dr_recover_kubeconfig";

  void SetUp() override {
    // One context, "region-a"; its server is never contacted by these tests.
    std::ofstream(kubeconfig) << R"(apiVersion: v1
kind: Config
clusters: [ { name: a, cluster: { server: "https://127.0.0.1:1" } } ]
users: [ { name: a, user: { token: t } } ]
contexts: [ { name: region-a, context: { cluster: a, user: a } } ]
current-context: region-a
)";
  }
  void TearDown() override { std::remove(kubeconfig.c_str()); }

  JournalEntry restore_in(const std::string& cluster, const std::string& context) {
    JournalEntry e;
    e.id = 1;
    e.action = "create";
    e.kind = "velero.io/restore";
    e.ns = "velero";
    e.name = "faultline-1234abcd-r2";
    e.state = "applied";
    e.cluster = cluster;
    e.context = context;
    return e;
  }
  std::vector<std::string> undo(std::vector<JournalEntry>& entries,
                                std::map<std::string, std::string> context_for = {}) {
    kube::LoadOptions base;
    base.kubeconfig = kubeconfig;
    base.allow_in_cluster = false;
    const nlohmann::json meta = {{"started_at", "2026-12-01T18:00:00Z"}};
    return drill_undo(chaos::testing::fake_client(home), {base, std::move(context_for)})(
        entries, meta, 5s, {});
  }
};

TEST_F(DrillUndo, AContextNotInTheKubeconfigLeavesTheEntryAndSaysWhatToPass) {
  std::vector<JournalEntry> entries = {restore_in("dr-region", "region-b")};
  const auto left = undo(entries);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].rfind("velero.io/restore/faultline-1234abcd-r2 in cluster 'dr-region': create "
                          "not undone: cannot reach cluster 'dr-region' through context "
                          "'region-b': ",
                          0),
            0u)
      << left[0];
  EXPECT_NE(left[0].find("(pass --context-for dr-region=CONTEXT)"), std::string::npos) << left[0];
  EXPECT_EQ(entries[0].state, "failed");
  EXPECT_TRUE(home->sent().empty());
}

TEST_F(DrillUndo, AnEntryWithoutAContextNeedsContextFor) {
  std::vector<JournalEntry> entries = {restore_in("dr-region", "")};
  const auto left = undo(entries);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_NE(left[0].find("the journal names no kubeconfig context for cluster 'dr-region' (pass "
                         "--context-for dr-region=CONTEXT)"),
            std::string::npos)
      << left[0];
}

TEST_F(DrillUndo, ContextForReplacesTheRecordedContext) {
  // The recorded "region-b" is not the one tried: --context-for's is.
  std::vector<JournalEntry> entries = {restore_in("dr-region", "region-b")};
  const auto left = undo(entries, {{"dr-region", "region-x"}});
  ASSERT_EQ(left.size(), 1u);
  EXPECT_NE(left[0].find("through context 'region-x'"), std::string::npos) << left[0];
}

TEST_F(DrillUndo, TheRunsOwnClusterIsRecoversOwnClient) {
  home->on("GET", "/apis/velero.io/v1/namespaces/velero/restores/faultline-1234abcd-r2", 404,
           R"({"kind":"Status","code":404,"reason":"NotFound"})");
  home->on("DELETE", "/apis/velero.io/v1/namespaces/velero/restores/faultline-1234abcd-r2", 404,
           R"({"kind":"Status","code":404,"reason":"NotFound"})");
  std::vector<JournalEntry> entries = {restore_in("", "")};
  EXPECT_TRUE(undo(entries).empty());
  EXPECT_EQ(entries[0].state, "reverted");
  EXPECT_EQ(
      home->count("DELETE", "/apis/velero.io/v1/namespaces/velero/restores/faultline-1234abcd-r2"),
      1u);
}

// Through a wrong context (--context-for naming the source cluster, say)
// the restored namespace's name may be a live one: older than the run, it is
// never deleted.
TEST_F(DrillUndo, ANamespaceOlderThanTheRunIsLeftAlone) {
  home->on("GET", "/api/v1/namespaces/shop", 200,
           R"({"kind":"Namespace","metadata":{"name":"shop",)"
           R"("creationTimestamp":"2026-11-02T09:00:00Z"}})");
  JournalEntry ns = restore_in("", "");
  ns.kind = "namespace";
  ns.ns = "";
  ns.name = "shop";
  std::vector<JournalEntry> entries = {ns};
  const auto left = undo(entries);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0],
            "namespace/shop in the run's cluster: create not undone: namespace created "
            "2026-11-02T09:00:00Z, before the drill started: not the drill's (a wrong "
            "--context-for?); left alone");
  EXPECT_EQ(home->count("DELETE", "/api/v1/namespaces/shop"), 0u);

  // One the run made (after its start) goes.
  home = std::make_shared<FakeTransport>();
  home->on("GET", "/api/v1/namespaces/shop", 200,
           R"({"kind":"Namespace","metadata":{"name":"shop",)"
           R"("creationTimestamp":"2026-12-01T18:00:40Z"}})");
  home->on("GET", "/api/v1/namespaces/shop", 404,
           R"({"kind":"Status","code":404,"reason":"NotFound"})");  // then gone
  home->on("DELETE", "/api/v1/namespaces/shop", 200, R"({"kind":"Namespace"})");
  entries = {ns};
  EXPECT_TRUE(undo(entries).empty());
  EXPECT_EQ(entries[0].state, "reverted");
  EXPECT_EQ(home->count("DELETE", "/api/v1/namespaces/shop"), 1u);
}

TEST(ContextFor, ParsesNameEqualsContextAndRefusesTheRest) {
  EXPECT_EQ(parse_context_for("dr-region=region-b"),
            (std::pair<std::string, std::string>{"dr-region", "region-b"}));
  for (const char* bad : {"dr-region", "=region-b", "dr-region="}) {
    try {
      parse_context_for(bad);
      ADD_FAILURE() << bad;
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()),
                std::string("--context-for: expected NAME=CONTEXT (a spec.dr.clusters name and a "
                            "kubeconfig context), got \"") +
                    bad + "\"");
    }
  }
}

}  // namespace
}  // namespace faultline::dr
