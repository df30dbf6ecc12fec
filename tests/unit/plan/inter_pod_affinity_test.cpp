// InterPodAffinity (required terms), after interpodaffinity/filtering_test.go.
#include <gtest/gtest.h>

#include "tests/unit/plan/fixtures.h"

namespace faultline::plan::testing {
namespace {

json term(const char* key, json match) {
  return {{"topologyKey", key}, {"labelSelector", {{"matchLabels", std::move(match)}}}};
}

Cluster two_zones() {
  Cluster c;
  c.snapshot.nodes = {make_node("a1", "zoneA"), make_node("a2", "zoneA"), make_node("b1", "zoneB")};
  c.snapshot.pods = {make_pod("db", "a1", {{"service", "securityscan"}})};
  c.build();
  return c;
}

TEST(InterPodAffinity, RequiredAntiAffinityKeepsThePodOutOfTheDomain) {
  Cluster c = two_zones();
  Pod p = make_pod("p");
  p.edit_spec().affinity = {
      {"podAntiAffinity",
       {{"requiredDuringSchedulingIgnoredDuringExecution",
         {term("topology.kubernetes.io/zone", {{"service", "securityscan"}})}}}}};
  EXPECT_EQ(inter_pod_affinity(p, c.info("a2"), c.state),
            "node(s) didn't match pod anti-affinity rules");
  EXPECT_EQ(inter_pod_affinity(p, c.info("b1"), c.state), std::nullopt);
}

TEST(InterPodAffinity, ExistingPodsAntiAffinityIsSymmetric) {
  Cluster c = two_zones();
  c.snapshot.pods[0].edit_spec().affinity = {
      {"podAntiAffinity",
       {{"requiredDuringSchedulingIgnoredDuringExecution",
         {term("kubernetes.io/hostname", {{"foo", "bar"}})}}}}};
  c.build();
  Pod p = make_pod("p");  // foo=bar
  EXPECT_EQ(inter_pod_affinity(p, c.info("a1"), c.state),
            "node(s) didn't satisfy existing pods anti-affinity rules");
  EXPECT_EQ(inter_pod_affinity(p, c.info("a2"), c.state), std::nullopt);
}

TEST(InterPodAffinity, RequiredAffinityNeedsAMatchInTheDomain) {
  Cluster c = two_zones();
  Pod p = make_pod("p");
  p.edit_spec().affinity = {
      {"podAffinity",
       {{"requiredDuringSchedulingIgnoredDuringExecution",
         {term("topology.kubernetes.io/zone", {{"service", "securityscan"}})}}}}};
  EXPECT_EQ(inter_pod_affinity(p, c.info("a2"), c.state), std::nullopt);
  EXPECT_EQ(inter_pod_affinity(p, c.info("b1"), c.state),
            "node(s) didn't match pod affinity rules");
}

TEST(InterPodAffinity, TheFirstPodOfAGroupMatchingItsOwnTermMayGoAnywhere) {
  // "satisfies the pod with requiredDuringSchedulingIgnoredDuringExecution in PodAffinity using
  // In operator that matches the existing pod" — and the special case: no pod matches anywhere,
  // but the pod matches its own term.
  Cluster c = two_zones();
  Pod p = make_pod("p", "", {{"app", "web"}});
  p.edit_spec().affinity = {{"podAffinity",
                             {{"requiredDuringSchedulingIgnoredDuringExecution",
                               {term("topology.kubernetes.io/zone", {{"app", "web"}})}}}}};
  EXPECT_EQ(inter_pod_affinity(p, c.info("b1"), c.state), std::nullopt);
  p.edit_spec().labels = {{"app", "other"}};
  EXPECT_EQ(inter_pod_affinity(p, c.info("b1"), c.state),
            "node(s) didn't match pod affinity rules");
}

TEST(InterPodAffinity, TermsSelectInThePodsNamespaceUnlessTold) {
  Cluster c = two_zones();
  c.snapshot.pods[0].ns = "other";
  c.build();
  Pod p = make_pod("p");
  json t = term("topology.kubernetes.io/zone", {{"service", "securityscan"}});
  p.edit_spec().affinity = {
      {"podAntiAffinity", {{"requiredDuringSchedulingIgnoredDuringExecution", {t}}}}};
  EXPECT_EQ(inter_pod_affinity(p, c.info("a2"), c.state), std::nullopt);
  t["namespaces"] = {"other"};
  p.edit_spec().affinity = {
      {"podAntiAffinity", {{"requiredDuringSchedulingIgnoredDuringExecution", {t}}}}};
  EXPECT_NE(inter_pod_affinity(p, c.info("a2"), c.state), std::nullopt);
}

}  // namespace
}  // namespace faultline::plan::testing
