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

// A node from a recent list is patched without a GET, guarded by the listed
// resourceVersion (issue 14: 1 request per node, was 2).
TEST(NodeFaults, AListedNodeIsPatchedWithItsResourceVersionAndNoGet) {
  auto fake = std::make_shared<FakeTransport>();
  fake->on("PATCH", kNode, 200, "{}");
  auto client = client_of(fake);
  json listed = node_with(json::array());

  EXPECT_EQ(cordon_node(client, "n1", "run-1", &listed), NodeChange::Applied);
  EXPECT_EQ(fake->count("GET", kNode), 0u);
  ASSERT_EQ(fake->count("PATCH", kNode), 1u);
  json patch = json::parse(fake->sent().back().body);
  EXPECT_EQ(patch["metadata"]["resourceVersion"], "3");
  EXPECT_EQ(patch["spec"]["unschedulable"], true);
}

// The node moved since the list: the API server refuses the stale
// resourceVersion (409), the node is read afresh and the patch sent again
// with the new one.
TEST(NodeFaults, AStaleListedNodeIsReadAgainOnConflict) {
  auto fake = std::make_shared<FakeTransport>();
  fake->on("PATCH", kNode, 409, R"({"kind":"Status","code":409,"reason":"Conflict"})");
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
