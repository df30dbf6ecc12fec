// The journal of a 10k-pod drain against the real API server: it is written
// as shards far below the 1 MiB ConfigMap limit, and a `faultline recover`
// after the runner died reads every shard (the one node entry is in the
// last), rolls the node back from the journal and deletes every shard.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "runner/chaos/journal.h"
#include "runner/chaos/node_faults.h"
#include "runner/kube/resource.h"
#include "tests/e2e/cluster_env.h"

namespace faultline::chaos {
namespace {

using faultline::testing::cluster_client;
using faultline::testing::faultline;
using json = nlohmann::json;
namespace res = kube::resources;

constexpr const char* kStateNamespace = "faultline";
constexpr const char* kNode = "zone-c-3";

size_t shards_of(kube::Client& client, const std::string& run) {
  kube::ListOptions o;
  o.label_selector = std::string(kJournalLabel) + "=true";
  size_t n = 0;
  json list = client.list(res::kConfigMaps, kStateNamespace, o);
  for (const auto& cm : list["items"])
    if (cm["metadata"]["annotations"].value(kRunAnnotation, "") == run) ++n;
  return n;
}

TEST(JournalScale, TenThousandPodDrainIsJournaledAndRecoveredFromEveryShard) {
  auto client = cluster_client();
  std::random_device rd;
  const std::string run = "scale-" + std::to_string(rd() % 1000000);
  ensure_namespace(client, kStateNamespace);
  Journal journal(client, kStateNamespace, run, json{{"experiment", "journal-scale"}});
  journal.open();

  std::vector<JournalEntry> pods;
  for (int i = 0; i < 10000; ++i)
    pods.push_back({0, "evict", "pod", "shop", "checkout-7d4b9c8f6d-" + std::to_string(i),
                    "0f6c7a52-1c4e-4d0e-9a57-" + std::to_string(100000000000 + i), "", "", -1, -1});
  auto t0 = std::chrono::steady_clock::now();
  auto ids = journal.intend(std::move(pods));
  for (int id : ids) journal.update(id, "applied", "", 1.0);
  journal.persist();
  // The last entry: a real cordon, made after it was journaled.
  auto node_id = journal.intend({JournalEntry{0, "cordon", "node", "", kNode, "", "", "", -1, -1}});
  ASSERT_EQ(cordon_node(client, kNode, run), NodeChange::Applied);
  journal.update(node_id[0], "applied", "", 2.0);
  journal.persist();
  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "journal: 10,001 entries in " << shards_of(client, run) << " ConfigMaps, written in "
            << took << " s\n";
  EXPECT_EQ(shards_of(client, run), 21u);  // ceil(10001 / 500)

  auto stored = Journal::list(client, kStateNamespace);
  const Journal::Stored* mine = nullptr;
  for (const auto& s : stored)
    if (s.run_id == run) mine = &s;
  ASSERT_NE(mine, nullptr);
  ASSERT_EQ(mine->entries.size(), 10001u);
  EXPECT_EQ(mine->entries.back().name, kNode);

  // The runner is gone (no close, no rollback): recover does it.
  std::string out;
  EXPECT_EQ(faultline("recover", &out), 0) << out;
  // One journal, not 21, and the node was put back from its entry in the
  // last shard, not by the annotation sweep.
  EXPECT_NE(out.find("recover: 1 journal(s) found, 1 rolled back and cleared, 0 annotated node(s) "
                     "restored"),
            std::string::npos)
      << out;
  EXPECT_EQ(shards_of(client, run), 0u);
  json node = client.get(res::kNodes, "", kNode);
  EXPECT_FALSE(node["spec"].value("unschedulable", false));
  EXPECT_FALSE(node["metadata"].value("annotations", json::object()).contains(kCordonedAnnotation));
}

}  // namespace
}  // namespace faultline::chaos
