// Which pods fail_zone's NoExecute taint evicts outside guards.namespaces.
#include "runner/chaos/collateral.h"

#include <gtest/gtest.h>

namespace faultline::chaos {
namespace {

using json = nlohmann::json;

json pod(const std::string& ns, const std::string& name, const std::string& node,
         json tolerations = json::array()) {
  return {{"metadata", {{"namespace", ns}, {"name", name}}},
          {"spec", {{"nodeName", node}, {"tolerations", tolerations}}}};
}

TEST(Collateral, PodsOutsideTheAllowedNamespacesThatDoNotTolerateTheTaint) {
  Guards g;
  g.namespaces = {"shop"};
  json pods = json::array(
      {pod("shop", "checkout", "a-1"),        // allowed
       pod("kube-system", "coredns", "a-1"),  // collateral
       pod("monitoring", "node-exporter", "a-2",
           json::array({{{"key", "node.kubernetes.io/unreachable"},
                         {"operator", "Exists"},
                         {"effect", "NoExecute"}}})),                               // another key
       pod("monitoring", "agent", "a-2", json::array({{{"operator", "Exists"}}})),  // tolerates all
       pod("logging", "slow", "a-1",
           json::array(
               {{{"operator", "Exists"}, {"effect", "NoExecute"}, {"tolerationSeconds", 30}}})),
       pod("kube-system", "elsewhere", "b-1")});  // other zone
  auto c = zone_failure_collateral(pods, {"a-1", "a-2"}, g);
  EXPECT_EQ(c, (std::vector<std::string>{"kube-system/coredns", "monitoring/node-exporter",
                                         "logging/slow"}));
}

}  // namespace
}  // namespace faultline::chaos
