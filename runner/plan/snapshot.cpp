#include "runner/plan/snapshot.h"

#include "runner/chaos/cluster_view.h"
#include "runner/common/error.h"
#include "runner/kube/errors.h"

namespace faultline::plan {

namespace res = kube::resources;

namespace {

// Not in runner/kube's table (only the model reads them).
const kube::Resource kPersistentVolumes{"", "v1", "persistentvolumes", false};
const kube::Resource kPersistentVolumeClaims{"", "v1", "persistentvolumeclaims", true};

json items_or_empty(const json& lists, const char* key) {
  return lists.contains(key) && lists[key].is_array() ? lists[key] : json::array();
}

}  // namespace

Snapshot snapshot_from_json(const json& lists) {
  Snapshot s;
  for (const auto& n : items_or_empty(lists, "nodes")) s.nodes.push_back(node_from_json(n));
  for (const auto& p : items_or_empty(lists, "pods")) s.pods.push_back(pod_from_json(p));
  for (const auto& p : items_or_empty(lists, "pdbs")) s.pdbs.push_back(pdb_from_json(p));
  for (const auto& v : items_or_empty(lists, "persistentvolumes"))
    s.volumes.push_back(volume_from_json(v));
  for (const auto& c : items_or_empty(lists, "persistentvolumeclaims"))
    s.claims.push_back(claim_from_json(c));
  s.endpoints = endpoints_from_slices(items_or_empty(lists, "endpointslices"));
  for (const auto& rs : items_or_empty(lists, "replicasets")) {
    const auto& md = rs["metadata"];
    std::string owner;
    for (const auto& o : md.value("ownerReferences", json::array()))
      if (o.value("controller", false) && o.value("kind", "") == "Deployment")
        owner = o.value("name", "");
    s.replicaset_owner[md.value("namespace", "") + "/" + md.value("name", "")] = owner;
  }
  return s;
}

Snapshot load_snapshot(kube::Client& client, const std::string& target_ns,
                       const std::string& service) {
  if (!service.empty()) {
    try {
      client.get(res::kServices, target_ns, service);
    } catch (const kube::ApiError& e) {
      if (e.kind() == kube::ApiError::Kind::NotFound)
        throw InputError("target service \"" + target_ns + "/" + service + "\" does not exist");
      throw;
    }
  }
  // Nodes and pods (the whole cluster's) a page at a time, each turned into
  // the model's compact Node / Pod as it is decoded: the snapshot never
  // holds the lists whole (issue 14: at 10k pods they were most of the
  // runner's peak memory). The rest is the target namespace's: small.
  std::vector<Node> nodes;
  std::vector<Pod> pods;
  kube::ListOptions paged;
  paged.project = [](json&) {};  // a projection: pages are decoded without managedFields
  client.list_each(
      res::kNodes, "", paged,
      [&](json& n) {
        nodes.push_back(node_from_json(n));
        return true;
      },
      [&] { nodes.clear(); });
  client.list_each(
      res::kPods, "", paged,
      [&](json& p) {
        pods.push_back(pod_from_json(p));
        return true;
      },
      [&] { pods.clear(); });
  json lists;
  lists["pdbs"] = chaos::items(client.list(res::kPodDisruptionBudgets, target_ns));
  lists["replicasets"] = chaos::items(client.list(res::kReplicaSets, target_ns));
  if (!service.empty()) {
    kube::ListOptions o;
    o.label_selector = "kubernetes.io/service-name=" + service;
    lists["endpointslices"] = chaos::items(client.list(res::kEndpointSlices, target_ns, o));
  }
  // Volumes are optional reads: a ServiceAccount without them still gets a
  // prediction, minus the zonal-volume rule (said in the notes).
  bool volumes_known = true;
  try {
    lists["persistentvolumeclaims"] = chaos::items(client.list(kPersistentVolumeClaims, target_ns));
    lists["persistentvolumes"] = chaos::items(client.list(kPersistentVolumes, ""));
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ApiError::Kind::Forbidden) throw;
    volumes_known = false;
  }
  Snapshot s = snapshot_from_json(lists);
  s.nodes = std::move(nodes);
  s.pods = std::move(pods);
  s.volumes_known = volumes_known;
  if (!volumes_known)
    s.notes.push_back(
        "PersistentVolumes/Claims are not readable with these credentials: zonal volumes are not "
        "modelled");
  return s;
}

}  // namespace faultline::plan
