// Zonal volumes: a pod whose claim is bound to a volume in one zone can only
// run in that zone. Two plugins decide it and both are mirrored here:
//  - VolumeBinding (pkg/scheduler/framework/plugins/volumebinding/binder.go,
//    checkBoundClaims): a bound PV's spec.nodeAffinity.required must match
//    the node — "node(s) didn't match PersistentVolume's node affinity"
//    (ErrReasonNodeConflict; v1.36 wording, checked on the local cluster);
//  - VolumeZone (pkg/scheduler/framework/plugins/volumezone/volume_zone.go):
//    a bound PV's zone labels must include the node's zone — "node(s) had no
//    available volume zone" (values may list zones joined by "__").
// A missing claim fails as VolumeBinding's PreFilter does. An unbound claim is
// assumed provisionable anywhere (WaitForFirstConsumer); the plan says so.
#include <sstream>

#include "runner/plan/rules/filter.h"

namespace faultline::plan {

namespace {

bool zone_label_allows(const json& pv_labels, const Node& node) {
  for (const char* key :
       {"topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone",
        "topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region"}) {
    if (!pv_labels.contains(key)) continue;
    std::string want = pv_labels[key].get<std::string>();
    std::string have = node.labels.value(key, "");
    bool found = false;
    size_t start = 0;
    while (start <= want.size()) {
      size_t end = want.find("__", start);
      if (end == std::string::npos) end = want.size();
      found = found || want.substr(start, end - start) == have;
      start = end + 2;
    }
    if (!found) return false;
  }
  return true;
}

}  // namespace

FilterResult volume_zone(const Pod& pod, const NodeInfo& info, const Snapshot& snapshot) {
  if (!snapshot.volumes_known) return std::nullopt;
  for (const auto& name : pod.spec().claims) {
    const PersistentVolumeClaim* claim = snapshot.claim(pod.ns, name);
    if (!claim) return "persistentvolumeclaim \"" + name + "\" not found";
    if (claim->volume_name.empty()) continue;
    const PersistentVolume* pv = snapshot.volume(claim->volume_name);
    if (!pv) return "persistentvolume \"" + claim->volume_name + "\" not found";
    if (!pv->node_affinity.is_null() && !node_selector_matches(pv->node_affinity, *info.node))
      return "node(s) didn't match PersistentVolume's node affinity";
    if (!zone_label_allows(pv->labels, *info.node)) return "node(s) had no available volume zone";
  }
  return std::nullopt;
}

}  // namespace faultline::plan
