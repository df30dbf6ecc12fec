#include "runner/plan/snapshot.h"

#include <functional>
#include <map>

#include "runner/common/error.h"
#include "runner/kube/errors.h"
#include "runner/kube/projection.h"
#include "runner/kube/resource.h"

namespace faultline::plan {

namespace res = kube::resources;

namespace {

// Not in runner/kube's table (only the model reads them).
const kube::Resource kPersistentVolumes{"", "v1", "persistentvolumes", false};
const kube::Resource kPersistentVolumeClaims{"", "v1", "persistentvolumeclaims", true};

const json& items_or_empty(const json& lists, const char* key) {
  static const json none = json::array();
  auto it = lists.find(key);
  return it != lists.end() && it->is_array() ? *it : none;
}

// "ns/name" of a ReplicaSet → its owning Deployment ("" when none).
void add_replicaset(std::map<std::string, std::string>& owners, const json& rs) {
  const auto& md = rs.contains("metadata") ? rs["metadata"] : json::object();
  std::string owner;
  for (const auto& o : md.value("ownerReferences", json::array()))
    if (o.value("controller", false) && o.value("kind", "") == "Deployment")
      owner = o.value("name", "");
  owners[md.value("namespace", "") + "/" + md.value("name", "")] = owner;
}

// An EndpointSlice cut to what endpoints_from_slices reads: a slice of 100
// endpoints is ~140 KB decoded whole (issue 14: at 10k pods the Service's
// slices, listed whole and copied, were 29 of the plan's 46 MB).
void project_slice(json& slice) {
  json endpoints = json::array();
  auto it = slice.find("endpoints");
  if (it != slice.end() && it->is_array())
    for (auto& e : *it) {
      if (!e.is_object()) continue;
      json kept = json::object();
      for (const char* key : {"targetRef", "zone", "conditions"})
        if (auto f = e.find(key); f != e.end()) kept[key] = std::move(*f);
      if (kept.contains("targetRef") && kept["targetRef"].is_object()) {
        json& ref = kept["targetRef"];
        ref = json{{"namespace", ref.value("namespace", "")}, {"name", ref.value("name", "")}};
      }
      endpoints.push_back(std::move(kept));
    }
  slice = json{{"endpoints", std::move(endpoints)}};
}

// Every item of a list, a page at a time, handed to `add` as decoded (and
// projected): never the list whole. `restart` empties what `add` filled when
// an expired continue token restarts the list.
void each(kube::Client& client, const kube::Resource& r, const std::string& ns,
          kube::ListOptions options, const std::function<void(json&)>& add,
          const std::function<void()>& restart) {
  // A projection, even one that keeps everything: pages are decoded
  // without managedFields.
  if (!options.project) options.project = [](json&) {};
  client.list_each(
      r, ns, options,
      [&](json& item) {
        add(item);
        return true;
      },
      restart);
}

}  // namespace

Snapshot snapshot_from_json(const json& lists) {
  Snapshot s;
  PodSpecPool specs;
  for (const auto& n : items_or_empty(lists, "nodes")) s.nodes.push_back(node_from_json(n));
  for (const auto& p : items_or_empty(lists, "pods")) s.pods.push_back(pod_from_json(p, specs));
  for (const auto& p : items_or_empty(lists, "pdbs")) s.pdbs.push_back(pdb_from_json(p));
  for (const auto& v : items_or_empty(lists, "persistentvolumes"))
    s.volumes.push_back(volume_from_json(v));
  for (const auto& c : items_or_empty(lists, "persistentvolumeclaims"))
    s.claims.push_back(claim_from_json(c));
  s.endpoints = endpoints_from_slices(items_or_empty(lists, "endpointslices"));
  for (const auto& rs : items_or_empty(lists, "replicasets"))
    add_replicaset(s.replicaset_owner, rs);
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
  // Every list a page at a time, each item turned into the model's compact
  // form as it is decoded: the snapshot never holds a list whole (issue 14:
  // at 10k pods the lists were most of the runner's peak memory). Nodes and
  // pods are the whole cluster's, the rest the target namespace's.
  Snapshot s;
  PodSpecPool specs;  // pods of one template share one PodSpec
  each(
      client, res::kNodes, "", {}, [&](json& n) { s.nodes.push_back(node_from_json(n)); },
      [&] { s.nodes.clear(); });
  each(
      client, res::kPods, "", {}, [&](json& p) { s.pods.push_back(pod_from_json(p, specs)); },
      [&] { s.pods.clear(); });
  each(
      client, res::kPodDisruptionBudgets, target_ns, {},
      [&](json& p) { s.pdbs.push_back(pdb_from_json(p)); }, [&] { s.pdbs.clear(); });
  kube::ListOptions owners;  // a ReplicaSet's name and owner, not its pod template
  owners.project = [](json& rs) {
    rs = kube::kept(rs, {{"metadata", {"name", "namespace", "ownerReferences"}}});
  };
  each(
      client, res::kReplicaSets, target_ns, owners,
      [&](json& rs) { add_replicaset(s.replicaset_owner, rs); },
      [&] { s.replicaset_owner.clear(); });
  if (!service.empty()) {
    kube::ListOptions o;
    o.label_selector = "kubernetes.io/service-name=" + service;
    o.project = project_slice;
    each(
        client, res::kEndpointSlices, target_ns, o,
        [&](json& slice) {
          json one = json::array();
          one.push_back(std::move(slice));
          for (auto& e : endpoints_from_slices(one)) s.endpoints.push_back(std::move(e));
        },
        [&] { s.endpoints.clear(); });
  }
  // Volumes are optional reads: a ServiceAccount without them still gets a
  // prediction, minus the zonal-volume rule (said in the notes).
  try {
    each(
        client, kPersistentVolumeClaims, target_ns, {},
        [&](json& c) { s.claims.push_back(claim_from_json(c)); }, [&] { s.claims.clear(); });
    each(
        client, kPersistentVolumes, "", {},
        [&](json& v) { s.volumes.push_back(volume_from_json(v)); }, [&] { s.volumes.clear(); });
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ApiError::Kind::Forbidden) throw;
    s.volumes_known = false;
    s.claims.clear();
    s.volumes.clear();
  }
  if (!s.volumes_known)
    s.notes.push_back(
        "PersistentVolumes/Claims are not readable with these credentials: zonal volumes are not "
        "modelled");
  return s;
}

}  // namespace faultline::plan
