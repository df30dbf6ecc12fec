// The journal stays writable at any size: a drain of 10k pods is sharded over
// ConfigMaps each far below the API server's 1 MiB limit, `recover` reads
// every shard back, and a failed write never leaves entries in memory that
// ride along in (or break) a later write.
#include "runner/chaos/journal.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/unit/chaos/fake_client.h"

namespace faultline::chaos {
namespace {

using faultline::testing::FakeTransport;
using json = nlohmann::json;

const std::string kJournals = "/api/v1/namespaces/faultline/configmaps";

kube::HttpResponse status(int code, const std::string& reason) {
  return {code, {}, json{{"kind", "Status"}, {"code", code}, {"reason", reason}}.dump(), false};
}

// ConfigMaps kept like the API server keeps them: create/replace/patch/
// delete/list, objects over 1 MiB refused (422 "Too long"), and a switch
// that fails the next write of a given name.
struct ConfigMapStore {
  std::shared_ptr<FakeTransport> fake = std::make_shared<FakeTransport>();
  std::shared_ptr<std::map<std::string, json>> maps =
      std::make_shared<std::map<std::string, json>>();
  std::shared_ptr<std::map<std::string, int>> fail_next =
      std::make_shared<std::map<std::string, int>>();
  size_t largest = 0;

  explicit ConfigMapStore(const std::string& run, size_t shards) {
    auto m = maps;
    auto fail = fail_next;
    auto* self = this;
    auto write = [m, fail, self](const json& body, bool create) -> kube::HttpResponse {
      std::string name = body["metadata"]["name"];
      if ((*fail)[name] > 0) {
        --(*fail)[name];
        return status(500, "InternalError");
      }
      auto text = body.dump();
      self->largest = std::max(self->largest, text.size());
      if (text.size() > (1u << 20)) return status(422, "Invalid");
      if (create && m->count(name)) return status(409, "AlreadyExists");
      if (!create && !m->count(name)) return status(404, "NotFound");
      (*m)[name] = body;
      return {create ? 201 : 200, {}, text, false};
    };
    fake->on("POST", kJournals,
             [write](const kube::HttpRequest& r) { return write(json::parse(r.body), true); });
    fake->on("GET", kJournals, [m](const kube::HttpRequest&) {
      json items = json::array();
      for (const auto& [_, cm] : *m) items.push_back(cm);
      return kube::HttpResponse{
          200, {}, json{{"items", items}, {"metadata", {{"resourceVersion", "1"}}}}.dump(), false};
    });
    for (size_t k = 0; k < shards; ++k) {
      auto name = Journal::shard_name(run, k);
      auto path = kJournals + "/" + name;
      fake->on("PUT", path,
               [write](const kube::HttpRequest& r) { return write(json::parse(r.body), false); });
      fake->on("PATCH", path, [m, name](const kube::HttpRequest& r) {
        if (!m->count(name)) return status(404, "NotFound");
        (*m)[name].merge_patch(json::parse(r.body));
        return kube::HttpResponse{200, {}, (*m)[name].dump(), false};
      });
      fake->on("DELETE", path, [m, name](const kube::HttpRequest&) {
        if (!m->erase(name)) return status(404, "NotFound");
        return kube::HttpResponse{200, {}, "{}", false};
      });
    }
  }
  size_t stored_entries(const std::string& name) const {
    if (!maps->count(name)) return 0;
    return json::parse(maps->at(name)["data"]["entries"].get<std::string>()).size();
  }
};

JournalEntry node_entry(const std::string& name) {
  return JournalEntry{0, "cordon", "node", "", name, "", "", "", -1, -1};
}

std::vector<JournalEntry> pod_entries(int n) {
  std::vector<JournalEntry> pods;
  for (int i = 0; i < n; ++i)
    pods.push_back({0, "evict", "pod", "shop", "checkout-7d4b9c8f6d-" + std::to_string(i),
                    "0f6c7a52-1c4e-4d0e-9a57-3c2b1e0d" + std::to_string(i), "", "", -1, -1});
  return pods;
}

TEST(Journal, TwentyThousandPodEntriesAreShardedUnderTheLimitAndListedBackWhole) {
  ConfigMapStore store("run-1", 60);
  Journal journal(testing::fake_client(store.fake), "faultline", "run-1", json{{"zone", "a"}});
  journal.open();
  journal.intend({node_entry("zone-a-1")});
  auto pods = pod_entries(20000);
  pods[7].note = std::string(100000, 'x');  // a huge error message is cut in the stored copy
  EXPECT_NO_THROW(journal.intend(std::move(pods)));
  EXPECT_NO_THROW(journal.intend({node_entry("zone-a-2")}));
  for (int id = 1; id <= 20002; ++id) journal.update(id, "applied", "", 1.0);
  EXPECT_NO_THROW(journal.persist());

  EXPECT_EQ(store.maps->size(), 41u);  // ceil(20002 / 500)
  EXPECT_LT(store.largest, 512u << 10);
  EXPECT_EQ(journal.entries().size(), 20002u);
  EXPECT_EQ(journal.entries()[8].note.size(), 100000u);  // the report keeps it whole

  auto client = testing::fake_client(store.fake);
  auto listed = Journal::list(client, "faultline");
  ASSERT_EQ(listed.size(), 1u);
  const auto& s = listed[0];
  EXPECT_EQ(s.name, "faultline-journal-run-1");
  EXPECT_EQ(s.run_id, "run-1");
  EXPECT_EQ(s.meta["zone"], "a");
  EXPECT_EQ(s.shards.size(), 41u);
  ASSERT_EQ(s.entries.size(), 20002u);
  for (size_t i = 0; i < s.entries.size(); ++i) {
    ASSERT_EQ(s.entries[i].id, static_cast<int>(i) + 1);
    ASSERT_EQ(s.entries[i].state, "applied");
  }
  EXPECT_EQ(s.entries.back().name, "zone-a-2");

  // recover writes each entry back to its own shard, and removes them all.
  auto back = s;
  back.entries.back().state = "reverted";
  Journal::save(client, "faultline", back);
  EXPECT_EQ(Journal::list(client, "faultline")[0].entries.back().state, "reverted");
  EXPECT_EQ(store.stored_entries(Journal::shard_name("run-1", 40)), 2u);
  Journal::remove(client, "faultline", back);
  EXPECT_TRUE(store.maps->empty());
}

TEST(Journal, OnlyTheShardsThatChangedAreWritten) {
  ConfigMapStore store("run-1", 10);
  Journal journal(testing::fake_client(store.fake), "faultline", "run-1", json::object());
  journal.open();
  journal.intend(pod_entries(2000));  // 4 shards
  auto before = store.fake->sent().size();
  journal.update(1700, "applied", "", 2.0);
  journal.persist();
  auto sent = store.fake->sent();
  ASSERT_EQ(sent.size(), before + 1);
  EXPECT_EQ(sent.back().path, kJournals + "/" + Journal::shard_name("run-1", 3));
}

TEST(Journal, AFailedWriteLeavesNoEntryInMemoryOrInALaterWrite) {
  ConfigMapStore store("run-1", 10);
  Journal journal(testing::fake_client(store.fake), "faultline", "run-1", json::object());
  journal.open();
  journal.intend({node_entry("zone-a-1")});

  // The head's write fails: the cordon was never journaled, so never made.
  (*store.fail_next)["faultline-journal-run-1"] = 1;
  EXPECT_THROW(journal.intend({node_entry("zone-a-2")}), kube::ApiError);
  EXPECT_EQ(journal.entries().size(), 1u);

  // A batch whose second shard fails to be created: the head was written
  // with part of it, and is rewritten without it by the next write.
  (*store.fail_next)[Journal::shard_name("run-1", 1)] = 1;
  EXPECT_THROW(journal.intend(pod_entries(700)), kube::ApiError);
  EXPECT_EQ(journal.entries().size(), 1u);

  auto ids = journal.intend({node_entry("zone-a-3")});
  EXPECT_EQ(ids, std::vector<int>{2});
  EXPECT_EQ(store.stored_entries("faultline-journal-run-1"), 2u);
  auto client = testing::fake_client(store.fake);
  auto listed = Journal::list(client, "faultline");
  ASSERT_EQ(listed.size(), 1u);
  ASSERT_EQ(listed[0].entries.size(), 2u);
  EXPECT_EQ(listed[0].entries[1].name, "zone-a-3");

  // A later batch that fills shard 1 writes it although the failed create
  // left nothing there.
  EXPECT_NO_THROW(journal.intend(pod_entries(600)));
  EXPECT_EQ(Journal::list(client, "faultline")[0].entries.size(), 602u);
  journal.close();
  EXPECT_TRUE(store.maps->empty());
}

TEST(Journal, AShardWhoseCreateReplyWasLostIsReplaced) {
  ConfigMapStore store("run-1", 10);
  Journal journal(testing::fake_client(store.fake), "faultline", "run-1", json::object());
  journal.open();
  // The head exists although we were not told (a lost 201): 409, then a PUT.
  (*store.maps)["faultline-journal-run-1"] =
      json{{"metadata", {{"name", "faultline-journal-run-1"}}}};
  Journal again(testing::fake_client(store.fake), "faultline", "run-1", json::object());
  EXPECT_NO_THROW(again.intend({node_entry("zone-a-1")}));
  EXPECT_EQ(store.stored_entries("faultline-journal-run-1"), 1u);
}

}  // namespace
}  // namespace faultline::chaos
