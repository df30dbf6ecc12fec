// The journal stays writable: a drain of thousands of pods must not push the
// ConfigMap past the API server's 1 MiB limit, after which every write (and
// so the rollback's bookkeeping) would fail.
#include "runner/chaos/journal.h"

#include <gtest/gtest.h>

#include "tests/unit/chaos/fake_client.h"

namespace faultline::chaos {
namespace {

using faultline::testing::FakeTransport;

const std::string kJournals = "/api/v1/namespaces/faultline/configmaps";

// The API server refuses an object over 1 MiB (422, "Too long").
FakeTransport::Reply like_the_api_server() {
  return [](const kube::HttpRequest& r) {
    if (r.body.size() > (1u << 20))
      return kube::HttpResponse{
          422,
          {},
          R"({"kind":"Status","code":422,"reason":"Invalid","message":"Too long"})",
          false};
    return kube::HttpResponse{200, {}, "{}", false};
  };
}

TEST(Journal, ThousandsOfPodEntriesKeepTheConfigMapUnderItsLimitAndNodeEntriesIntact) {
  auto fake = std::make_shared<FakeTransport>();
  fake->on("POST", kJournals, like_the_api_server());
  fake->on("PUT", kJournals + "/faultline-journal-run-1", like_the_api_server());
  Journal journal(testing::fake_client(fake), "faultline", "run-1", nlohmann::json::object());
  journal.open();
  journal.intend({JournalEntry{0, "cordon", "node", "", "zone-a-1", "", "", "", -1, -1}});
  std::vector<JournalEntry> pods;
  for (int i = 0; i < 20000; ++i)
    pods.push_back({0, "evict", "pod", "shop", "checkout-7d4b9c8f6d-" + std::to_string(i),
                    "0f6c7a52-1c4e-4d0e-9a57-3c2b1e0d" + std::to_string(i), "", "", -1, -1});
  EXPECT_NO_THROW(journal.intend(std::move(pods)));
  EXPECT_NO_THROW(
      journal.intend({JournalEntry{0, "cordon", "node", "", "zone-a-2", "", "", "", -1, -1}}));
  EXPECT_NO_THROW(journal.persist());

  auto last = fake->sent().back();
  auto data = nlohmann::json::parse(last.body)["data"];
  EXPECT_EQ(data["pod_entries_omitted"], "20000");
  auto stored = nlohmann::json::parse(data["entries"].get<std::string>());
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[1]["name"], "zone-a-2");
  EXPECT_EQ(journal.entries().size(), 20002u);  // the report still has them all
}

}  // namespace
}  // namespace faultline::chaos
