// Preflight's "is there one?" checks (runner/experiment/preconditions.cpp):
// each reads as little of the cluster as answers it — a small first page
// that stops at the first match, every page after it only when it must — and
// still refuses when nothing matches.
#include "runner/experiment/preconditions.h"

#include <gtest/gtest.h>

#include "runner/common/error.h"
#include "runner/experiment/spec.h"
#include "tests/unit/chaos/fake_client.h"

namespace faultline::experiment {
namespace {

using json = nlohmann::json;
using faultline::testing::FakeTransport;

const char* kExperiment = R"(apiVersion: faultline.io/v1alpha1
kind: Experiment
metadata: { name: zone-drain }
spec:
  script: zone_drain.lua
  params: { zone: zone-a }
  target: { namespace: shop, selector: app=checkout }
)";

json pod(const std::string& name, bool terminating) {
  json p = {{"metadata", {{"name", name}, {"namespace", "shop"}}},
            {"spec", {{"nodeName", "zone-a-1"}, {"containers", json::array({{{"name", "app"}}})}}}};
  if (terminating) p["metadata"]["deletionTimestamp"] = "2026-12-02T00:00:00Z";
  return p;
}

json page(json items, const std::string& cont) {
  json l = {{"kind", "PodList"}, {"metadata", {{"resourceVersion", "7"}}}, {"items", items}};
  if (!cont.empty()) l["metadata"]["continue"] = cont;
  return l;
}

std::shared_ptr<FakeTransport> cluster_with_zone_a() {
  auto fake = std::make_shared<FakeTransport>();
  fake->on("GET", "/api/v1/nodes", 200,
           page(json::array({{{"metadata",
                               {{"name", "zone-a-1"},
                                {"labels", {{"topology.kubernetes.io/zone", "zone-a"}}}}}}}),
                "")
               .dump());
  return fake;
}

TEST(Preconditions, AnActivePodOnTheFirstPageEndsTheListThere) {
  auto fake = cluster_with_zone_a();
  // A first page with a terminating pod then an active one, and a continue
  // token the check never follows.
  fake->on("GET", "/api/v1/namespaces/shop/pods", 200,
           page(json::array({pod("old", true), pod("new", false)}), "more").dump());
  auto client = chaos::testing::fake_client(fake);

  auto reasons = check_preconditions(client, parse_experiment_text("e.yaml", kExperiment));

  EXPECT_TRUE(reasons.empty()) << reasons.front();
  ASSERT_EQ(fake->count("GET", "/api/v1/namespaces/shop/pods"), 1u);
  for (const auto& r : fake->sent()) {
    if (r.path.rfind("/api/v1/namespaces/shop/pods", 0) == 0) {
      EXPECT_NE(r.path.find("limit=100"), std::string::npos) << r.path;
    }
  }
}

TEST(Preconditions, OnlyTerminatingPodsOnEveryPageIsNoPod) {
  auto fake = cluster_with_zone_a();
  fake->on("GET", "/api/v1/namespaces/shop/pods", 200,
           page(json::array({pod("a", true)}), "more").dump());
  fake->on("GET", "/api/v1/namespaces/shop/pods", 200,
           page(json::array({pod("b", true)}), "").dump());
  auto client = chaos::testing::fake_client(fake);

  auto reasons = check_preconditions(client, parse_experiment_text("e.yaml", kExperiment));

  ASSERT_EQ(reasons.size(), 1u);
  EXPECT_NE(reasons[0].find("matches no pod in namespace shop"), std::string::npos) << reasons[0];
  EXPECT_EQ(fake->count("GET", "/api/v1/namespaces/shop/pods"), 2u);  // both pages read
}

TEST(Preconditions, AZoneWithoutNodesIsBadInputNamingTheZonesThereAre) {
  auto fake = cluster_with_zone_a();
  auto client = chaos::testing::fake_client(fake);
  std::string text = kExperiment;
  text.replace(text.find("zone: zone-a"), 12, "zone: zone-q");

  try {
    check_preconditions(client, parse_experiment_text("e.yaml", text));
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("zone \"zone-q\" has no nodes in this cluster (zones: "
                                         "zone-a)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(fake->count("GET", "/api/v1/namespaces/shop/pods"), 0u);
}

}  // namespace
}  // namespace faultline::experiment
