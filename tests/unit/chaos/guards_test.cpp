#include "runner/chaos/guards.h"

#include <gtest/gtest.h>

#include "runner/common/error.h"

namespace faultline::chaos {
namespace {

std::string guard_message(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const GuardError& e) {
    return e.what();
  }
  return "";
}

TEST(Guards, NeverEveryZoneAtOnceEvenWhenMaxZonesAllowsIt) {
  Guards g;
  g.max_zones = 5;
  EXPECT_EQ(guard_message([&] { g.check_zones({"a", "b", "c"}, 3); }),
            "guard: refusing to fault every zone of the cluster at once (3 of 3)");
  EXPECT_EQ(guard_message([&] { g.check_zones({"a", "b"}, 3); }), "");
}

TEST(Guards, MaxZonesCountsZonesFaultedAtTheSameTime) {
  Guards g;  // max_zones 1
  EXPECT_EQ(guard_message([&] { g.check_zones({"a"}, 3); }), "");
  EXPECT_EQ(guard_message([&] { g.check_zones({"a", "b"}, 3); }),
            "guard max_zones: 2 zones would be faulted at once, the limit is 1");
}

TEST(Guards, MaxNodeFraction) {
  Guards g;
  g.max_node_fraction = 0.34;
  EXPECT_EQ(guard_message([&] { g.check_nodes(3, 9); }), "");
  EXPECT_EQ(guard_message([&] { g.check_nodes(4, 9); }),
            "guard max_node_fraction: 4 of 9 nodes (44%) would be faulted, the limit is 34%");
}

TEST(Guards, NamespacesAllowListAndKubeSystem) {
  Guards g;
  g.namespaces = {"shop", "kube-system"};
  EXPECT_TRUE(g.namespace_allowed("shop"));
  EXPECT_FALSE(g.namespace_allowed("payments"));
  EXPECT_FALSE(g.namespace_allowed("kube-system"));  // listed, but not explicitly allowed
  EXPECT_EQ(guard_message([&] { g.check_namespace("kube-system"); }),
            "guard: namespace kube-system is untouchable unless guards.allow_kube_system is true");
  EXPECT_EQ(guard_message([&] { g.check_namespace("payments"); }),
            "guard namespaces: namespace \"payments\" is not in the allow-list [shop, kube-system]");
  g.allow_kube_system = true;
  EXPECT_TRUE(g.namespace_allowed("kube-system"));
}

}  // namespace
}  // namespace faultline::chaos
