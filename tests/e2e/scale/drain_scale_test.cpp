// A zone drain at production size against the real API server (issue 14):
// 1,500 pods, 500 of them in the drained zone, one PDB with maxUnavailable
// 10% (so >= 1,350 must stay Ready). Judged by the API server's own view,
// not by faultline: a second watcher of the pods' Ready transitions and of
// the PDB status, the DisruptionTarget condition the eviction API puts on
// every pod it evicts (a plain DELETE does not), and the API server's own
// request counters for the eviction subresource.
#include <gtest/gtest.h>

#include <cstdio>
#include <iostream>
#include <regex>

#include "runner/chaos/chaos.h"
#include "runner/kube/resource.h"
#include "tests/e2e/cluster_env.h"
#include "tests/e2e/scale/drain_fixture.h"

namespace faultline::chaos {
namespace {

using faultline::testing::cluster_client;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// apiserver_request_total for pods/eviction by code, from /metrics.
std::map<std::string, long> eviction_requests(kube::Client& client) {
  auto resp = client.request("GET", "/metrics", "", "", "get", "metrics", "", true);
  std::map<std::string, long> out;
  std::regex code("code=\"([0-9]+)\"");
  size_t start = 0;
  const std::string& b = resp.body;
  while (start < b.size()) {
    size_t nl = b.find('\n', start);
    if (nl == std::string::npos) nl = b.size();
    std::string line = b.substr(start, nl - start);
    start = nl + 1;
    if (line.rfind("apiserver_request_total{", 0) != 0 ||
        line.find("resource=\"pods\"") == std::string::npos ||
        line.find("subresource=\"eviction\"") == std::string::npos)
      continue;
    std::smatch m;
    if (!std::regex_search(line, m, code)) continue;
    out[m[1]] += std::stol(line.substr(line.rfind(' ') + 1));
  }
  return out;
}

TEST(DrainScale, ZoneOf500PodsIn1500_EveryPodEvictedNoneDeleted_PdbHeldInTheServersView) {
  auto client = cluster_client();
  testing::ScaleCluster size;  // 1,500 pods, 500 in scale-a, maxUnavailable 10%
  struct Cleanup {
    kube::Client& client;
    ~Cleanup() {
      try {
        testing::scale_down(client);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "scale_down: " << e.what();
      }
    }
  } cleanup{client};
  auto t0 = Clock::now();
  testing::scale_up(client, size);
  std::cout << "scale: " << size.pods << " pods Ready ("
            << testing::scale_ready_per_zone(client)[testing::kScaleZone] << " in "
            << testing::kScaleZone << ") in "
            << std::chrono::duration<double>(Clock::now() - t0).count() << " s\n";
  ASSERT_EQ(testing::scale_ready_per_zone(client)[testing::kScaleZone], size.in_zone);

  testing::BudgetWatcher watcher(client);
  watcher.wait_synced();
  auto before = eviction_requests(client);

  ensure_namespace(client, "faultline");
  Journal journal(client, "faultline", "drain-scale", json{{"experiment", "drain-scale"}});
  journal.open();
  ChaosOptions o;
  o.run_id = "drain-scale";
  o.guards.namespaces = {testing::kScaleNamespace};
  Chaos chaos(client, journal, o);
  struct Rollback {
    Chaos& chaos;
    Journal& journal;
    ~Rollback() {
      chaos.rollback(std::chrono::seconds(60));
      journal.close();
    }
  } rollback{chaos, journal};
  DrainOptions d;
  d.timeout = std::chrono::seconds(300);
  auto started = Clock::now();
  json r = chaos.drain_zone(testing::kScaleZone, d);
  double took = std::chrono::duration<double>(Clock::now() - started).count();
  auto after = eviction_requests(client);
  // The replacements settle, then the watcher has seen all there is.
  testing::wait_scale_ready(client, size.pods, std::chrono::seconds(300));
  std::this_thread::sleep_for(std::chrono::seconds(1));

  long accepted = after["201"] - before["201"], refused = after["429"] - before["429"];
  int budget = size.pods * size.max_unavailable_percent / 100;
  double floor =
      std::ceil(static_cast<double>(size.in_zone) / budget) * watcher.median_time_to_ready();
  std::cout << "drain: " << r["evicted"].size() << " evicted in " << took << " s; faultline saw "
            << r["pdb_refusals"] << " refusal(s); the API server answered " << accepted
            << " evictions 201 and " << refused << " 429\n"
            << "server view: min " << watcher.min_healthy()
            << " Ready (PDB status: min currentHealthy " << watcher.min_pdb_healthy()
            << ", desiredHealthy " << watcher.desired_healthy() << ", min disruptionsAllowed "
            << watcher.min_disruptions_allowed() << "); " << watcher.deleted_after_eviction()
            << " pods of " << testing::kScaleZone << " went after an eviction, "
            << watcher.deleted_without_eviction() << " without\n"
            << "PDB floor: ceil(" << size.in_zone << " / " << budget << ") x "
            << watcher.median_time_to_ready() << " s to Ready = " << floor
            << " s; drain / floor = " << (floor > 0 ? took / floor : 0) << "\n";

  EXPECT_EQ(r["evicted"].size(), static_cast<size_t>(size.in_zone)) << r["failed"].dump();
  EXPECT_EQ(r["failed"], json::array());
  EXPECT_EQ(r["not_gone"], json::array());
  EXPECT_EQ(accepted, size.in_zone);  // one accepted eviction per pod, no more
  EXPECT_EQ(watcher.deleted_after_eviction(), size.in_zone);
  EXPECT_EQ(watcher.deleted_without_eviction(), 0);
  EXPECT_GE(watcher.min_healthy(), size.pods - budget);
  EXPECT_GE(watcher.min_pdb_healthy(), watcher.desired_healthy());
}

}  // namespace
}  // namespace faultline::chaos
