// Which vantages an http probe's from: asks for, resolved against the
// cluster read-only (an unknown zone: file:line:col, exit 2, nothing sent
// but GETs), and its SLOs judged per vantage.
#include "runner/experiment/vantages.h"

#include <gtest/gtest.h>

#include "runner/common/error.h"
#include "tests/unit/chaos/fake_client.h"

namespace faultline::experiment {
namespace {

using json = nlohmann::json;

const char* kSpec = R"(apiVersion: faultline.io/v1alpha1
kind: Experiment
metadata: { name: vantage }
spec:
  script: zone_outage.lua
  target: { namespace: shop, selector: app=checkout }
  probes:
    - name: web
      http:
        url: http://10.96.0.10/healthz
        rate: 20/s
        from: FROM
  slos:
    - { availability: { probe: web, min: "99%" } }
    - { latency: { probe: web, p99: 500ms } }
    - { replacement: { within: 60s } }
)";

Experiment spec_with(const std::string& from) {
  std::string text = kSpec;
  text.replace(text.find("FROM"), 4, from);
  return parse_experiment_text("exp.yaml", text);
}

std::shared_ptr<faultline::testing::FakeTransport> cluster() {
  auto fake = std::make_shared<faultline::testing::FakeTransport>();
  json nodes = {{"items", json::array()}};
  for (const char* z : {"zone-a", "zone-b", "zone-c"})
    nodes["items"].push_back(
        {{"metadata",
          {{"name", std::string("n-") + z}, {"labels", {{"topology.kubernetes.io/zone", z}}}}}});
  fake->on("GET", "/api/v1/nodes", 200, nodes.dump());
  json pods = {{"items", json::array()}};
  for (const char* n : {"n-zone-a", "n-zone-b"})
    pods["items"].push_back(
        {{"metadata", {{"name", std::string("p-") + n}}}, {"spec", {{"nodeName", n}}}});
  fake->on("GET", "/api/v1/namespaces/shop/pods", 200, pods.dump());
  return fake;
}

TEST(Vantages, EveryZoneIsTheZonesOfTheTargetsPods) {
  auto fake = cluster();
  kube::Client client = chaos::testing::fake_client(fake);
  auto plans =
      plan_vantages(client, spec_with("every-zone"), "vantage-20261201-ab12c", "faultline");
  ASSERT_EQ(plans.size(), 2u);
  EXPECT_EQ(plans[0].series, "web@zone-a");
  EXPECT_EQ(plans[1].series, "web@zone-b");
  EXPECT_EQ(plans[0].pod.name, "faultline-vantage-web-zone-a-ab12c");
  EXPECT_EQ(plans[0].pod.namespace_, "faultline");
  EXPECT_EQ(plans[0].pod.url, "http://10.96.0.10/healthz");
  EXPECT_DOUBLE_EQ(plans[0].pod.rate, 20);
  for (const auto& r : fake->sent()) EXPECT_EQ(r.method, "GET") << r.path;
}

TEST(Vantages, AnUnknownZoneIsAnInputErrorAtItsLine) {
  kube::Client client = chaos::testing::fake_client(cluster());
  try {
    plan_vantages(client, spec_with("[zone-a, zone-x]"), "r-1", "faultline");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(),
                 "exp.yaml:12:24: http probe from: zone \"zone-x\" has no nodes in this cluster "
                 "(zones: zone-a, zone-b, zone-c)");
  }
}

TEST(Vantages, AvailabilityAndLatencySlosAreJudgedPerVantage) {
  kube::Client client = chaos::testing::fake_client(cluster());
  auto e = spec_with("[zone-c, zone-a]");
  auto plans = plan_vantages(client, e, "r-1", "faultline");
  expand_vantage_slos(e.slos, plans);
  std::vector<std::string> names;
  for (const auto& s : e.slos) names.push_back(s.name());
  EXPECT_EQ(names, (std::vector<std::string>{"availability(web@zone-c)", "availability(web@zone-a)",
                                             "latency(web@zone-c)", "latency(web@zone-a)",
                                             "replacement"}));
  EXPECT_TRUE(plan_vantages(client, spec_with("[zone-a]"), "r", "f").size() == 1);
}

}  // namespace
}  // namespace faultline::experiment
