// NodeResourcesFit, after noderesources/fit_test.go TestEnoughRequests.
#include <gtest/gtest.h>

#include "tests/unit/plan/fixtures.h"

namespace faultline::plan::testing {
namespace {

NodeInfo info_with(const Node& node, Resources used) { return {&node, {}, used}; }

TEST(NodeResourcesFit, NoResourcesRequestedAlwaysFits) {
  Node n = make_node("n", "z", 10);
  EXPECT_EQ(node_resources_fit(make_pod("p"), info_with(n, {10, 0, 0, 1})), std::nullopt);
}

TEST(NodeResourcesFit, TooManyResourcesFailsWithInsufficientCpu) {
  // fit_test.go "too many resources fails": allocatable 10 milli-CPU, 10 in use.
  Node n = make_node("n", "z", 10);
  EXPECT_EQ(node_resources_fit(make_pod("p", "", {}, 1), info_with(n, {10, 0, 0, 1})),
            "Insufficient cpu");
}

TEST(NodeResourcesFit, EqualEdgeCaseFits) {
  // fit_test.go "equal edge case": 5 + 5 of 10.
  Node n = make_node("n", "z", 10);
  EXPECT_EQ(node_resources_fit(make_pod("p", "", {}, 5), info_with(n, {5, 0, 0, 1})), std::nullopt);
}

TEST(NodeResourcesFit, MemoryIsCheckedAfterCpu) {
  Node n = make_node("n", "z", 8000);
  Pod p = make_pod("p", "", {}, 100);
  p.edit_spec().requests.memory = n.allocatable.memory;
  EXPECT_EQ(node_resources_fit(p, info_with(n, {0, 1, 0, 0})), "Insufficient memory");
}

TEST(NodeResourcesFit, PodCountIsAResourceToo) {
  // fit_test.go "even without specified resources, predicate fails when there's no space for
  // additional pod".
  Node n = make_node("n", "z", 8000, 1);
  EXPECT_EQ(node_resources_fit(make_pod("p"), info_with(n, {0, 0, 0, 1})), "Too many pods");
}

TEST(NodeResourcesFit, InitContainersRaiseTheRequestSidecarsAddUp) {
  // resourcehelper.PodRequests: max(sum(containers), each init container),
  // with restartPolicy Always sidecars added to both.
  json pod = {
      {"metadata", {{"name", "p"}, {"namespace", "default"}}},
      {"spec",
       {{"containers", {{{"resources", {{"requests", {{"cpu", "500m"}}}}}}}},
        {"initContainers",
         {{{"resources", {{"requests", {{"cpu", "2"}}}}}},
          {{"restartPolicy", "Always"}, {"resources", {{"requests", {{"cpu", "100m"}}}}}}}}}}};
  EXPECT_EQ(pod_from_json(pod).spec().requests.milli_cpu,
            2000);  // the 2-CPU init runs before the sidecar starts
  pod["spec"]["initContainers"][0]["resources"]["requests"]["cpu"] = "200m";
  EXPECT_EQ(pod_from_json(pod).spec().requests.milli_cpu, 600);
}

TEST(Quantity, ParsesTheApiServersForms) {
  EXPECT_EQ(parse_milli_cpu("250m"), 250);
  EXPECT_EQ(parse_milli_cpu("2"), 2000);
  EXPECT_EQ(parse_milli_cpu("0.5"), 500);
  EXPECT_EQ(parse_bytes("32Mi"), 33554432);
  EXPECT_EQ(parse_bytes("1G"), 1000000000);
  EXPECT_EQ(parse_bytes("129e6"), 129000000);
  EXPECT_EQ(parse_bytes("110"), 110);
  EXPECT_THROW(parse_bytes("12Zi"), InputError);
}

}  // namespace
}  // namespace faultline::plan::testing
