// kube::kept / conditions_of: what every projection (pods, nodes, events) is
// built from. What is listed survives by value; nothing else does; a part
// listed but absent is still an object a reader can index.
#include "runner/kube/projection.h"

#include <gtest/gtest.h>

namespace faultline::kube {
namespace {

using json = nlohmann::json;

TEST(Projection, KeepsOnlyTheListedKeysOfTheListedParts) {
  json pod = {{"metadata", {{"name", "p"}, {"uid", "u1"}, {"managedFields", {{{"x", 1}}}}}},
              {"spec", {{"nodeName", "n1"}, {"containers", json::array({{{"name", "c"}}})}}},
              {"status", {{"phase", "Running"}, {"podIP", "10.0.0.1"}}},
              {"apiVersion", "v1"}};
  json out =
      kept(pod, {{"metadata", {"name", "namespace"}}, {"spec", {"nodeName"}}, {"status", {}}});
  EXPECT_EQ(out, json({{"metadata", {{"name", "p"}}},
                       {"spec", {{"nodeName", "n1"}}},
                       {"status", json::object()}}));
}

TEST(Projection, AnAbsentOrMalformedPartIsAnEmptyObject) {
  json node = {{"metadata", "not an object"}};
  json out = kept(node, {{"metadata", {"name"}}, {"spec", {"taints"}}});
  EXPECT_EQ(out, json({{"metadata", json::object()}, {"spec", json::object()}}));
  json scalar = 3;
  EXPECT_EQ(kept(scalar, {{"metadata", {"name"}}}), json::object());
}

TEST(Projection, ConditionsKeepTypeAndStatusAndCanBeNarrowedToOne) {
  json node = {{"status",
                {{"conditions",
                  {{{"type", "MemoryPressure"}, {"status", "False"}, {"message", "long text"}},
                   {{"type", "Ready"}, {"status", "True"}, {"lastHeartbeatTime", "t"}},
                   "garbage"}}}}};
  EXPECT_EQ(conditions_of(node), json::array({{{"type", "MemoryPressure"}, {"status", "False"}},
                                              {{"type", "Ready"}, {"status", "True"}}}));
  EXPECT_EQ(conditions_of(node, "Ready"), json::array({{{"type", "Ready"}, {"status", "True"}}}));
  EXPECT_EQ(conditions_of(json{{"status", {{"phase", "Running"}}}}), json::array());
}

}  // namespace
}  // namespace faultline::kube
