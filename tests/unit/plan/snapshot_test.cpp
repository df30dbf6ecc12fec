// load_snapshot reads every list a page at a time (issue 14): every page
// followed, each item turned into the model's Pod / Node / Endpoint,
// managedFields never kept, and the whole lists never held; pods of one
// template share one PodSpec.
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

kube::Client client_of(const std::shared_ptr<FakeTransport>& fake) {
  kube::ClientConfig c;
  c.server = "https://127.0.0.1:1";
  c.qps = 0;
  c.max_retries = 0;
  return kube::Client(c, fake);
}

json pod(const std::string& name, const std::string& node, const std::string& app = "checkout") {
  return {{"metadata",
           {{"name", name},
            {"namespace", "shop"},
            {"uid", "uid-" + name},
            {"labels", {{"app", app}}},
            {"managedFields", json::array({{{"manager", "kube-controller-manager"}}})}}},
          {"spec", {{"nodeName", node}}},
          {"status", {{"phase", "Running"}}}};
}

TEST(Snapshot, NodesAndPodsAreReadAPageAtATimeIntoTheModel) {
  auto fake = std::make_shared<FakeTransport>();
  kube::Client client = client_of(fake);
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
  EXPECT_EQ(s.pods[0].spec().labels, json({{"app", "checkout"}}));
  EXPECT_EQ(fake->count("GET", "/api/v1/pods"), 2u);
  size_t continued = 0;
  for (const auto& r : fake->sent())
    if (r.path.find("continue=p-next") != std::string::npos) ++continued;
  EXPECT_EQ(continued, 1u);
}

TEST(Snapshot, PodsOfOneTemplateShareOneSpecAndAnEditCopiesIt) {
  json lists = {
      {"pods", {pod("p0", "n1"), pod("p1", "n2"), pod("p2", "n1", "cart"), pod("p3", "n1")}}};
  lists["pods"][3]["spec"]["priority"] = 7;  // same labels, another template
  Snapshot s = snapshot_from_json(lists);
  ASSERT_EQ(s.pods.size(), 4u);
  EXPECT_EQ(&s.pods[0].spec(), &s.pods[1].spec());
  EXPECT_NE(&s.pods[0].spec(), &s.pods[2].spec());
  EXPECT_NE(&s.pods[0].spec(), &s.pods[3].spec());
  EXPECT_EQ(s.pods[3].spec().priority, 7);

  s.pods[1].edit_spec().labels["app"] = "changed";
  EXPECT_EQ(s.pods[1].spec().labels["app"], "changed");
  EXPECT_EQ(s.pods[0].spec().labels["app"], "checkout");  // the shared one is untouched
}

TEST(Snapshot, EndpointSlicesAndReplicaSetsAreReadAPageAtATime) {
  auto fake = std::make_shared<FakeTransport>();
  kube::Client client = client_of(fake);
  auto slice = [](const std::string& pod, const std::string& zone, bool ready) {
    return json{{"metadata", {{"name", "web-" + pod}}},
                {"endpoints",
                 {{{"addresses", {"10.0.0.1"}},
                   {"conditions", {{"ready", ready}}},
                   {"targetRef", {{"kind", "Pod"}, {"namespace", "shop"}, {"name", pod}}},
                   {"zone", zone}}}}};
  };
  json rs = {
      {"metadata",
       {{"name", "web-1"},
        {"namespace", "shop"},
        {"ownerReferences", {{{"kind", "Deployment"}, {"name", "web"}, {"controller", true}}}}}},
      {"spec", {{"template", {{"spec", {{"containers", json::array()}}}}}}}};
  fake->on("GET", "/api/v1/namespaces/shop/services/web", 200, json{{"metadata", {}}}.dump());
  for (const char* path :
       {"/api/v1/nodes", "/api/v1/pods", "/apis/policy/v1/namespaces/shop/poddisruptionbudgets",
        "/api/v1/namespaces/shop/persistentvolumeclaims", "/api/v1/persistentvolumes"})
    fake->on("GET", path, 200, page(json::array(), "").dump());
  fake->on("GET", "/apis/apps/v1/namespaces/shop/replicasets", 200,
           page(json::array({rs}), "").dump());
  fake->on("GET", "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices", 200,
           page(json::array({slice("p0", "a", true)}), "s-next").dump());
  fake->on("GET", "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices", 200,
           page(json::array({slice("p1", "b", false)}), "").dump());

  Snapshot s = load_snapshot(client, "shop", "web");

  ASSERT_EQ(s.endpoints.size(), 2u);
  EXPECT_EQ(s.endpoints[0].pod_name, "p0");
  EXPECT_EQ(s.endpoints[0].pod_ns, "shop");
  EXPECT_EQ(s.endpoints[0].zone, "a");
  EXPECT_TRUE(s.endpoints[0].ready);
  EXPECT_EQ(s.endpoints[1].pod_name, "p1");
  EXPECT_FALSE(s.endpoints[1].ready);
  EXPECT_EQ(fake->count("GET", "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices"), 2u);
  EXPECT_EQ(s.replicaset_owner.at("shop/web-1"), "web");
}

}  // namespace
}  // namespace faultline::plan
