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

// A node from a recent list is patched without a GET: a JSON patch whose
// test ops hold it to the listed spec and the annotations it changes (not to
// the resourceVersion, which status heartbeats move; issue 14: 1 request per
// node, was 2).
TEST(NodeFaults, AListedNodeIsPatchedWithTestsOnWhatTheDecisionReadAndNoGet) {
  auto fake = std::make_shared<FakeTransport>();
  fake->on("PATCH", kNode, 200, "{}");
  auto client = client_of(fake);
  json listed = node_with(json::array(), {{"other", "x"}});

  EXPECT_EQ(cordon_node(client, "n1", "run-1", &listed), NodeChange::Applied);
  EXPECT_EQ(fake->count("GET", kNode), 0u);
  ASSERT_EQ(fake->count("PATCH", kNode), 1u);
  const auto sent = fake->sent().back();  // sent() is a copy
  EXPECT_EQ(sent.headers.at("Content-Type"), "application/json-patch+json");
  EXPECT_EQ(json::parse(sent.body),
            json::parse(R"([{"op":"test","path":"/spec","value":{"taints":[]}},
                            {"op":"add","path":"/metadata/annotations/faultline.io~1cordoned-by","value":"run-1"},
                            {"op":"add","path":"/spec/unschedulable","value":true}])"));
}

// The undo tests the annotation it decided on, then removes it.
TEST(NodeFaults, AListedUncordonTestsOurAnnotationAndRemovesIt) {
  auto fake = std::make_shared<FakeTransport>();
  fake->on("PATCH", kNode, 200, "{}");
  auto client = client_of(fake);
  json listed = node_with(json::array(), {{kCordonedAnnotation, "run-1"}});
  listed["spec"]["unschedulable"] = true;

  EXPECT_EQ(uncordon_node(client, "n1", "run-1", &listed), NodeChange::Applied);
  EXPECT_EQ(fake->count("GET", kNode), 0u);
  json ops = json::parse(fake->sent().back().body);
  ASSERT_EQ(ops.size(), 4u) << ops.dump();
  EXPECT_EQ(
      ops[1],
      json::parse(
          R"({"op":"test","path":"/metadata/annotations/faultline.io~1cordoned-by","value":"run-1"})"));
  EXPECT_EQ(
      ops[2],
      json::parse(R"({"op":"remove","path":"/metadata/annotations/faultline.io~1cordoned-by"})"));
  EXPECT_EQ(ops[3], json::parse(R"({"op":"add","path":"/spec/unschedulable","value":false})"));
}

// The node changed where it matters since the list: the API server refuses
// the test (422), the node is read afresh and patched with its
// resourceVersion.
TEST(NodeFaults, AListedNodeThatChangedIsReadAgainWhenTheTestFails) {
  auto fake = std::make_shared<FakeTransport>();
  fake->on("PATCH", kNode, 422, R"({"kind":"Status","code":422,"reason":"Invalid"})");
  fake->on("PATCH", kNode, 200, "{}");
  json fresh = node_with(json::array());
  fresh["metadata"]["resourceVersion"] = "7";
  fake->on("GET", kNode, 200, fresh.dump());
  auto client = client_of(fake);
  json listed = node_with(json::array());

  EXPECT_EQ(cordon_node(client, "n1", "run-1", &listed), NodeChange::Applied);
  EXPECT_EQ(fake->count("GET", kNode), 1u);
  ASSERT_EQ(fake->count("PATCH", kNode), 2u);
  EXPECT_EQ(json::parse(fake->sent().back().body)["metadata"]["resourceVersion"], "7");
}

// "Nothing to do" is never decided from a list, which may predate the change
// that matters: the list shows no mark of ours, the node itself does, and
// the undo happens.
TEST(NodeFaults, NothingToDoFromAListIsConfirmedByAGet) {
  auto fake = std::make_shared<FakeTransport>();
  json fresh = node_with(json::array(), {{kCordonedAnnotation, "run-1"}});
  fresh["spec"]["unschedulable"] = true;
  fresh["metadata"]["resourceVersion"] = "9";
  fake->on("GET", kNode, 200, fresh.dump());
  fake->on("PATCH", kNode, 200, "{}");
  auto client = client_of(fake);
  json listed = node_with(json::array());  // before our cordon

  EXPECT_EQ(uncordon_node(client, "n1", "run-1", &listed), NodeChange::Applied);
  EXPECT_EQ(fake->count("GET", kNode), 1u);
  json patch = json::parse(fake->sent().back().body);
  EXPECT_EQ(patch["spec"]["unschedulable"], false);
  EXPECT_EQ(patch["metadata"]["resourceVersion"], "9");
}

}  // namespace
}  // namespace faultline::chaos
