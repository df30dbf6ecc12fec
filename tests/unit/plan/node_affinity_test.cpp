// NodeAffinity, after nodeaffinity/node_affinity_test.go TestNodeAffinity.
#include <gtest/gtest.h>

#include "tests/unit/plan/fixtures.h"

namespace faultline::plan::testing {
namespace {

FilterResult with_terms(json terms, json labels = {{"foo", "bar"}}) {
  Node n = make_node("node1", "");
  n.labels = std::move(labels);
  Pod p = make_pod("p");
  p.edit_spec().affinity = {
      {"nodeAffinity",
       {{"requiredDuringSchedulingIgnoredDuringExecution", {{"nodeSelectorTerms", terms}}}}}};
  return node_affinity(p, {&n, {}, {}});
}

const char* kMismatch = "node(s) didn't match Pod's node affinity/selector";

TEST(NodeAffinity, NoSelectorMatchesEveryNode) {
  Node n = make_node("node1", "");
  EXPECT_EQ(node_affinity(make_pod("p"), {&n, {}, {}}), std::nullopt);
}

TEST(NodeAffinity, NodeSelectorNeedsEveryLabel) {
  Node n = make_node("node1", "");
  n.labels = {{"foo", "bar"}};
  Pod p = make_pod("p");
  p.edit_spec().node_selector = {{"foo", "bar"}};
  EXPECT_EQ(node_affinity(p, {&n, {}, {}}), std::nullopt);
  p.edit_spec().node_selector["baz"] = "qux";
  EXPECT_EQ(node_affinity(p, {&n, {}, {}}), kMismatch);
}

TEST(NodeAffinity, InNotInExistsDoesNotExistGtLt) {
  auto expr = [](const char* key, const char* op, json values = json::array()) {
    return json::array(
        {{{"matchExpressions", {{{"key", key}, {"operator", op}, {"values", values}}}}}});
  };
  EXPECT_EQ(with_terms(expr("foo", "In", {"value1", "bar"})), std::nullopt);
  EXPECT_EQ(with_terms(expr("foo", "In", {"value1"})), kMismatch);
  EXPECT_EQ(with_terms(expr("foo", "NotIn", {"value1"})), std::nullopt);
  EXPECT_EQ(with_terms(expr("foo", "Exists")), std::nullopt);
  EXPECT_EQ(with_terms(expr("foo", "DoesNotExist")), kMismatch);
  EXPECT_EQ(with_terms(expr("GPU", "Gt", {"0"}), {{"GPU", "2"}}), std::nullopt);
  EXPECT_EQ(with_terms(expr("GPU", "Lt", {"2"}), {{"GPU", "2"}}), kMismatch);
}

TEST(NodeAffinity, TermsAreOredExpressionsAnded) {
  json terms = {{{"matchExpressions",
                  {{{"key", "foo"}, {"operator", "In"}, {"values", {"bar"}}},
                   {{"key", "x"}, {"operator", "Exists"}}}}},
                {{"matchExpressions", {{{"key", "foo"}, {"operator", "Exists"}}}}}};
  EXPECT_EQ(with_terms(terms), std::nullopt);  // the second term matches
  terms.erase(1);
  EXPECT_EQ(with_terms(terms), kMismatch);  // the first needs x too
}

TEST(NodeAffinity, AnEmptyTermMatchesNothing) {
  // "Pod with an empty NodeSelectorTerms list and an empty term should not be scheduled."
  EXPECT_EQ(with_terms(json::array({json::object()})), kMismatch);
  EXPECT_EQ(with_terms(json::array()), kMismatch);
}

TEST(NodeAffinity, MatchFieldsSelectsByNodeName) {
  json terms = {
      {{"matchFields", {{{"key", "metadata.name"}, {"operator", "In"}, {"values", {"node1"}}}}}}};
  EXPECT_EQ(with_terms(terms), std::nullopt);
  terms[0]["matchFields"][0]["values"] = {"node2"};
  EXPECT_EQ(with_terms(terms), kMismatch);
}

}  // namespace
}  // namespace faultline::plan::testing
