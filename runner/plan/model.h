// The what-if model: a read-only picture of the cluster (nodes, pods, PDBs,
// volumes, the target Service's endpoints), parsed once from the API's JSON
// into the few fields the kube-scheduler's filters and the PDB maths read.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace faultline::plan {

using json = nlohmann::json;

// Requests and allocatable in the scheduler's units (NodeResourcesFit's
// framework.Resource): milli-CPU, bytes, and the pod count.
struct Resources {
  int64_t milli_cpu = 0;
  int64_t memory = 0;
  int64_t ephemeral_storage = 0;
  int64_t pods = 0;
  bool operator==(const Resources&) const = default;
};

// "250m" → 250 milli, "2" → 2000 (cpu); "32Mi" → 33554432 (bytes).
int64_t parse_milli_cpu(const std::string& quantity);
int64_t parse_bytes(const std::string& quantity);

struct Taint {
  std::string key, value, effect;  // effect: NoSchedule, PreferNoSchedule, NoExecute
};

struct Toleration {
  std::string key, op = "Equal", value, effect;
  bool tolerates(const Taint& taint) const;  // v1.Toleration.ToleratesTaint
  bool operator==(const Toleration&) const = default;
};

struct SpreadConstraint {
  int max_skew = 1;
  std::string topology_key;
  bool hard = false;    // whenUnsatisfiable: DoNotSchedule
  json label_selector;  // LabelSelector; null selects nothing
  std::vector<std::string> match_label_keys;
  int min_domains = 1;
  bool node_affinity_honor = true;  // nodeAffinityPolicy (default Honor)
  bool node_taints_honor = false;   // nodeTaintsPolicy (default Ignore)
  bool operator==(const SpreadConstraint&) const = default;
};

struct Node {
  std::string name, zone;
  json labels = json::object();
  std::vector<Taint> taints;
  bool unschedulable = false;
  Resources allocatable;
};

// What the pods of one template have in common: labels, scheduling
// constraints, requests, owner. The snapshot holds one per distinct template
// and each pod points to it (issue 14: a copy per pod was ~2.9 KB of the
// ~3.1 KB a plan::Pod held, ~29 MB at 10,000 pods). Immutable once shared.
struct PodSpec {
  json labels = json::object();
  Resources requests;  // pods = 1
  json node_selector = json::object();
  json affinity = json::object();
  std::vector<Toleration> tolerations;
  std::vector<SpreadConstraint> spread;
  std::vector<std::string> claims;     // PVC names (same namespace)
  std::string owner_kind, owner_name;  // the controller ("ReplicaSet", "StatefulSet", ...)
  int priority = 0;
  bool operator==(const PodSpec&) const = default;
};

struct Pod {
  std::string ns, name, uid, node, phase;
  bool ready = false, terminating = false;
  std::string created;                  // RFC 3339, the queue's tie-break
  std::optional<double> time_to_ready;  // Ready.lastTransitionTime − PodScheduled (or creation), s

  // Shared with the pods of the same template; its address identifies the
  // template (the rules memoise label matches by it).
  const PodSpec& spec() const { return *spec_; }
  // This pod's own copy to change (tests, builders): never changes the pods
  // it shared the spec with.
  PodSpec& edit_spec();
  void set_spec(std::shared_ptr<const PodSpec> spec) { spec_ = std::move(spec); }

  bool daemonset() const { return spec_->owner_kind == "DaemonSet"; }
  bool finished() const { return phase == "Succeeded" || phase == "Failed"; }
  std::string ref() const { return ns + "/" + name; }

 private:
  static const std::shared_ptr<const PodSpec>& empty_spec();
  std::shared_ptr<const PodSpec> spec_ = empty_spec();
};

// Hands out one shared PodSpec per distinct value, for a snapshot's pods.
class PodSpecPool {
 public:
  std::shared_ptr<const PodSpec> intern(PodSpec&& spec);

 private:
  std::unordered_map<size_t, std::vector<std::shared_ptr<const PodSpec>>> by_hash_;
};

struct Pdb {
  std::string ns, name;
  json selector;                                       // LabelSelector
  std::optional<json> min_available, max_unavailable;  // int or "50%"
  int disruptions_allowed = 0;  // status, as the disruption controller last saw it
};

struct PersistentVolume {
  std::string name;
  json labels = json::object();
  json node_affinity;  // spec.nodeAffinity.required (a NodeSelector) or null
};

struct PersistentVolumeClaim {
  std::string ns, name, volume_name;  // volume_name "" when unbound
};

struct Endpoint {
  std::string pod_ns, pod_name, zone;
  bool ready = false;
};

// A new field must also be copied by simulate's copy_without_pods
// (runner/plan/simulate.cpp).
struct Snapshot {
  std::vector<Node> nodes;
  std::vector<Pod> pods;
  std::vector<Pdb> pdbs;
  std::vector<PersistentVolume> volumes;
  std::vector<PersistentVolumeClaim> claims;
  std::vector<Endpoint> endpoints;  // the target Service's EndpointSlices
  // False when PVs/PVCs could not be read (RBAC): the volume rule is skipped
  // and the prediction says so, rather than calling every claim missing.
  bool volumes_known = true;
  std::vector<std::string> notes;  // what the snapshot could not read
  // ReplicaSet "ns/name" → its owning Deployment's name, to name workloads.
  std::map<std::string, std::string> replicaset_owner;

  // "Deployment shop/checkout", "StatefulSet shop/db", "Pod shop/x" (no controller).
  std::string workload_of(const Pod& pod) const;

  const Node* node(const std::string& name) const;
  std::vector<std::string> zones() const;  // sorted
  const PersistentVolumeClaim* claim(const std::string& ns, const std::string& name) const;
  const PersistentVolume* volume(const std::string& name) const;
};

// From the API objects (each a `.items` element).
Node node_from_json(const json& node);
// Pods of one template share their PodSpec through `pool`; without one, each
// pod has its own.
Pod pod_from_json(const json& pod);
Pod pod_from_json(const json& pod, PodSpecPool& pool);
Pdb pdb_from_json(const json& pdb);
PersistentVolume volume_from_json(const json& pv);
PersistentVolumeClaim claim_from_json(const json& pvc);
// Every endpoint of the EndpointSlices (discovery.k8s.io/v1) given.
std::vector<Endpoint> endpoints_from_slices(const json& slices);

// A LabelSelector object against labels (metav1.LabelSelectorAsSelector: a
// null selector matches nothing, an empty one everything).
bool label_selector_matches(const json& selector, const json& labels);

}  // namespace faultline::plan
