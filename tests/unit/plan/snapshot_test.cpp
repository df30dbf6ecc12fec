// load_snapshot reads nodes and pods a page at a time (issue 14): every page
// followed, each item turned into the model's Pod / Node, managedFields never
// kept, and the whole lists never held.
#include <gtest/gtest.h>

#include "runner/kube/client.h"
#include "runner/plan/snapshot.h"
#include "tests/unit/kube/fake_transport.h"

namespace faultline::plan {
namespace {

using faultline::testing::FakeTransport;
using json = nlohmann::json;

json page(const json& items, const std::string& next) {
  json meta = {{"resourceVersion", "9"}};
  if (!next.empty()) meta["continue"] = next;
  return {{"metadata", meta}, {"items", items}};
}

json pod(const std::string& name, const std::string& node) {
  return {{"metadata",
           {{"name", name},
            {"namespace", "shop"},
            {"uid", "uid-" + name},
            {"labels", {{"app", "checkout"}}},
            {"managedFields", json::array({{{"manager", "kube-controller-manager"}}})}}},
          {"spec", {{"nodeName", node}}},
          {"status", {{"phase", "Running"}}}};
}

TEST(Snapshot, NodesAndPodsAreReadAPageAtATimeIntoTheModel) {
  auto fake = std::make_shared<FakeTransport>();
  kube::ClientConfig c;
  c.server = "https://127.0.0.1:1";
  c.qps = 0;
  c.max_retries = 0;
  kube::Client client(c, fake);
  json n1 = {{"metadata", {{"name", "n1"}, {"labels", {{"topology.kubernetes.io/zone", "a"}}}}}};
  json n2 = {{"metadata", {{"name", "n2"}, {"labels", {{"topology.kubernetes.io/zone", "b"}}}}}};
  fake->on("GET", "/api/v1/nodes", 200, page(json::array({n1}), "n-next").dump());
  fake->on("GET", "/api/v1/nodes", 200, page(json::array({n2}), "").dump());
  fake->on("GET", "/api/v1/pods", 200,
           page(json::array({pod("p0", "n1"), pod("p1", "n2")}), "p-next").dump());
  fake->on("GET", "/api/v1/pods", 200, page(json::array({pod("p2", "n1")}), "").dump());
  for (const char* path :
       {"/apis/policy/v1/namespaces/shop/poddisruptionbudgets",
        "/apis/apps/v1/namespaces/shop/replicasets",
        "/api/v1/namespaces/shop/persistentvolumeclaims", "/api/v1/persistentvolumes"})
    fake->on("GET", path, 200, page(json::array(), "").dump());

  Snapshot s = load_snapshot(client, "shop", "");

  ASSERT_EQ(s.nodes.size(), 2u);
  ASSERT_EQ(s.pods.size(), 3u);
  EXPECT_EQ(s.pods[2].name, "p2");
  EXPECT_EQ(s.pods[2].node, "n1");
  EXPECT_EQ(s.pods[0].labels, json({{"app", "checkout"}}));
  EXPECT_EQ(fake->count("GET", "/api/v1/pods"), 2u);
  size_t continued = 0;
  for (const auto& r : fake->sent())
    if (r.path.find("continue=p-next") != std::string::npos) ++continued;
  EXPECT_EQ(continued, 1u);
}

}  // namespace
}  // namespace faultline::plan
