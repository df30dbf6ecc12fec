// The zone-failure taint is ours only with its key AND effect: a node that
// carries someone's faultline.io/zone-failure:NoSchedule is still failed
// (NoExecute added beside it), and undo removes only our NoExecute taint.
#include "runner/chaos/node_faults.h"

#include <gtest/gtest.h>

#include "runner/chaos/journal.h"
#include "tests/unit/chaos/fake_client.h"

namespace faultline::chaos {
namespace {

using faultline::testing::FakeTransport;
using json = nlohmann::json;

const std::string kNode = "/api/v1/nodes/n1";

kube::Client client_of(std::shared_ptr<FakeTransport> fake) {
  return testing::fake_client(std::move(fake));
}

json node_with(json taints, json annotations = json::object()) {
  return {{"metadata", {{"name", "n1"}, {"resourceVersion", "3"}, {"annotations", annotations}}},
          {"spec", {{"taints", taints}}}};
}

json patched_taints(const FakeTransport& fake) {
  for (const auto& r : fake.sent())
    if (r.method == "PATCH") return json::parse(r.body)["spec"]["taints"];
  return nullptr;
}

TEST(NodeFaults, TaintWithOurKeyButAnotherEffect_DoesNotCountAsFailed) {
  auto fake = std::make_shared<FakeTransport>();
  json someone = {{"key", kFailureTaintKey}, {"value", "ops"}, {"effect", "NoSchedule"}};
  fake->on("GET", kNode, 200, node_with(json::array({someone})).dump());
  fake->on("PATCH", kNode, 200, "{}");
  auto client = client_of(fake);

  EXPECT_EQ(taint_node(client, "n1", "run-1"), NodeChange::Applied);
  json expected = json::array(
      {someone, {{"key", kFailureTaintKey}, {"value", "run-1"}, {"effect", "NoExecute"}}});
  EXPECT_EQ(patched_taints(*fake), expected);
}

TEST(NodeFaults, Untaint_RemovesOnlyOurNoExecuteTaint) {
  auto fake = std::make_shared<FakeTransport>();
  json someone = {{"key", kFailureTaintKey}, {"value", "run-1"}, {"effect", "NoSchedule"}};
  json ours = {{"key", kFailureTaintKey}, {"value", "run-1"}, {"effect", "NoExecute"}};
  fake->on("GET", kNode, 200,
           node_with(json::array({someone, ours}), {{kTaintedAnnotation, "run-1"}}).dump());
  fake->on("PATCH", kNode, 200, "{}");
  auto client = client_of(fake);

  EXPECT_EQ(untaint_node(client, "n1", "run-1"), NodeChange::Applied);
  EXPECT_EQ(patched_taints(*fake), json::array({someone}));
}

}  // namespace
}  // namespace faultline::chaos
