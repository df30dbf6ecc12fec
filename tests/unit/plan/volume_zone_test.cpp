// VolumeZone + VolumeBinding's bound-PV node affinity, after
// volumezone/volume_zone_test.go and volumebinding/binder_test.go.
#include <gtest/gtest.h>

#include "tests/unit/plan/fixtures.h"

namespace faultline::plan::testing {
namespace {

struct Fixture {
  Snapshot s;
  Node a = make_node("a1", "zone-a"), b = make_node("b1", "zone-b");
  Pod pod = make_pod("db-0");
  Fixture() {
    pod.edit_spec().claims = {"data-db-0"};
    s.claims = {{"default", "data-db-0", "pv-a"}};
    s.volumes = {{"pv-a", json::object(), json()}};
  }
  FilterResult on(const Node& n) { return volume_zone(pod, {&n, {}, {}}, s); }
};

TEST(VolumeZone, AZoneLabelledVolumeKeepsThePodInItsZone) {
  Fixture f;
  f.s.volumes[0].labels = {{"topology.kubernetes.io/zone", "zone-a"}};
  EXPECT_EQ(f.on(f.a), std::nullopt);
  EXPECT_EQ(f.on(f.b), "node(s) had no available volume zone");
}

TEST(VolumeZone, MultiZoneLabelValuesAreJoinedByDoubleUnderscore) {
  Fixture f;
  f.s.volumes[0].labels = {{"topology.kubernetes.io/zone", "zone-a__zone-b"}};
  EXPECT_EQ(f.on(f.b), std::nullopt);
}

TEST(VolumeBinding, ABoundVolumesNodeAffinityMustMatch) {
  Fixture f;
  f.s.volumes[0].node_affinity = {{"nodeSelectorTerms",
                                   {{{"matchExpressions",
                                      {{{"key", "topology.kubernetes.io/zone"},
                                        {"operator", "In"},
                                        {"values", {"zone-a"}}}}}}}}};
  EXPECT_EQ(f.on(f.a), std::nullopt);
  EXPECT_EQ(f.on(f.b), "node(s) didn't match PersistentVolume's node affinity");
}

TEST(VolumeBinding, AMissingClaimFailsAndAnUnboundOneIsAssumedProvisionable) {
  Fixture f;
  f.s.claims.clear();
  EXPECT_EQ(f.on(f.a), "persistentvolumeclaim \"data-db-0\" not found");
  f.s.claims = {{"default", "data-db-0", ""}};
  EXPECT_EQ(f.on(f.b), std::nullopt);
}

}  // namespace
}  // namespace faultline::plan::testing
