#include "runner/plan/model.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <set>

#include "runner/chaos/cluster_view.h"
#include "runner/chaos/selector.h"
#include "runner/common/error.h"

namespace faultline::plan {

namespace {

// A resource.Quantity as a double in base units: "250m", "2", "1.5", "32Mi",
// "1G", "129e6".
double parse_quantity(const std::string& q) {
  if (q.empty()) return 0;
  size_t end = 0;
  double v;
  try {
    v = std::stod(q, &end);
  } catch (const std::exception&) {
    throw InputError("quantity \"" + q + "\": expected a number");
  }
  std::string suffix = q.substr(end);
  static const std::map<std::string, double> kSuffix = {{"", 1},
                                                        {"m", 1e-3},
                                                        {"k", 1e3},
                                                        {"M", 1e6},
                                                        {"G", 1e9},
                                                        {"T", 1e12},
                                                        {"P", 1e15},
                                                        {"E", 1e18},
                                                        {"Ki", 1024.},
                                                        {"Mi", 1048576.},
                                                        {"Gi", 1073741824.},
                                                        {"Ti", 1099511627776.},
                                                        {"Pi", 1125899906842624.},
                                                        {"Ei", 1152921504606846976.}};
  auto it = kSuffix.find(suffix);
  if (it == kSuffix.end())
    throw InputError("quantity \"" + q + "\": unknown suffix \"" + suffix + "\"");
  return v * it->second;
}

std::string str(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return "";
  return j[key].get<std::string>();
}

json obj(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_object()) return json::object();
  return j[key];
}

json arr(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_array()) return json::array();
  return j[key];
}

// metadata.namespace and .name, which every object here starts with.
void read_name(const json& md, std::string& ns, std::string& name) {
  ns = str(md, "namespace");
  name = str(md, "name");
}

// RFC 3339 "2026-12-01T11:00:00Z" → seconds since the epoch.
std::optional<double> parse_time(const std::string& t) {
  std::tm tm{};
  if (t.size() < 19 || !strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return std::nullopt;
  return static_cast<double>(timegm(&tm));
}

Resources container_requests(const json& c) {
  json req = obj(obj(c, "resources"), "requests");
  Resources r;
  r.milli_cpu = parse_milli_cpu(str(req, "cpu"));
  r.memory = parse_bytes(str(req, "memory"));
  r.ephemeral_storage = parse_bytes(str(req, "ephemeral-storage"));
  return r;
}

void add(Resources& a, const Resources& b) {
  a.milli_cpu += b.milli_cpu;
  a.memory += b.memory;
  a.ephemeral_storage += b.ephemeral_storage;
}

void at_least(Resources& a, const Resources& b) {
  a.milli_cpu = std::max(a.milli_cpu, b.milli_cpu);
  a.memory = std::max(a.memory, b.memory);
  a.ephemeral_storage = std::max(a.ephemeral_storage, b.ephemeral_storage);
}

// resourcehelper.PodRequests (k8s.io/component-helpers/resource): the sum of
// the containers, raised to each init container's request (sidecars, i.e.
// restartPolicy Always, keep running and add up), plus the pod overhead.
Resources pod_requests(const json& spec) {
  Resources sum;
  for (const auto& c : arr(spec, "containers")) add(sum, container_requests(c));
  Resources sidecars, init_max;
  for (const auto& c : arr(spec, "initContainers")) {
    Resources r = container_requests(c);
    if (str(c, "restartPolicy") == "Always") {
      add(sidecars, r);
      at_least(init_max, sidecars);
    } else {
      add(r, sidecars);
      at_least(init_max, r);
    }
  }
  add(sum, sidecars);
  at_least(sum, init_max);
  json overhead = obj(spec, "overhead");
  add(sum,
      Resources{parse_milli_cpu(str(overhead, "cpu")), parse_bytes(str(overhead, "memory")), 0, 0});
  sum.pods = 1;
  return sum;
}

}  // namespace

int64_t parse_milli_cpu(const std::string& quantity) {
  return static_cast<int64_t>(std::ceil(parse_quantity(quantity) * 1000 - 1e-9));
}

int64_t parse_bytes(const std::string& quantity) {
  return static_cast<int64_t>(std::ceil(parse_quantity(quantity) - 1e-9));
}

// k8s.io/api/core/v1 Toleration.ToleratesTaint.
bool Toleration::tolerates(const Taint& taint) const {
  if (!effect.empty() && effect != taint.effect) return false;
  if (!key.empty() && key != taint.key) return false;
  if (op == "Exists") return true;
  return (op == "Equal" || op.empty()) && value == taint.value;
}

Node node_from_json(const json& n) {
  Node node;
  json md = obj(n, "metadata");
  node.name = str(md, "name");
  node.labels = obj(md, "labels");
  node.zone = str(node.labels, chaos::kZoneLabel);
  json spec = obj(n, "spec");
  node.unschedulable = spec.value("unschedulable", false);
  for (const auto& t : arr(spec, "taints"))
    node.taints.push_back({str(t, "key"), str(t, "value"), str(t, "effect")});
  json alloc = obj(obj(n, "status"), "allocatable");
  node.allocatable.milli_cpu = parse_milli_cpu(str(alloc, "cpu"));
  node.allocatable.memory = parse_bytes(str(alloc, "memory"));
  node.allocatable.ephemeral_storage = parse_bytes(str(alloc, "ephemeral-storage"));
  node.allocatable.pods = parse_bytes(str(alloc, "pods"));
  return node;
}

const std::shared_ptr<const PodSpec>& Pod::empty_spec() {
  static const std::shared_ptr<const PodSpec> empty = std::make_shared<const PodSpec>();
  return empty;
}

PodSpec& Pod::edit_spec() {
  auto own = std::make_shared<PodSpec>(*spec_);
  PodSpec& s = *own;
  spec_ = std::move(own);
  return s;
}

std::shared_ptr<const PodSpec> PodSpecPool::intern(PodSpec&& spec) {
  // The fields that tell templates apart; equality settles collisions.
  size_t h = std::hash<json>{}(spec.labels);
  h = h * 31 + std::hash<std::string>{}(spec.owner_name);
  h = h * 31 + static_cast<size_t>(spec.requests.milli_cpu);
  h = h * 31 + spec.tolerations.size() * 7 + spec.spread.size();
  auto& same_hash = by_hash_[h];
  for (const auto& known : same_hash)
    if (*known == spec) return known;
  same_hash.push_back(std::make_shared<const PodSpec>(std::move(spec)));
  return same_hash.back();
}

namespace {

PodSpec pod_spec_from_json(const json& md, const json& spec) {
  PodSpec s;
  s.labels = obj(md, "labels");
  for (const auto& o : arr(md, "ownerReferences"))
    if (o.value("controller", false)) s.owner_kind = str(o, "kind"), s.owner_name = str(o, "name");
  s.requests = pod_requests(spec);
  s.node_selector = obj(spec, "nodeSelector");
  s.affinity = obj(spec, "affinity");
  s.priority = spec.value("priority", 0);
  for (const auto& t : arr(spec, "tolerations"))
    s.tolerations.push_back({str(t, "key"),
                             str(t, "operator").empty() ? "Equal" : str(t, "operator"),
                             str(t, "value"), str(t, "effect")});
  for (const auto& c : arr(spec, "topologySpreadConstraints")) {
    SpreadConstraint sc;
    sc.max_skew = c.value("maxSkew", 1);
    sc.topology_key = str(c, "topologyKey");
    sc.hard = str(c, "whenUnsatisfiable") == "DoNotSchedule";
    sc.label_selector = c.contains("labelSelector") ? c["labelSelector"] : json();
    for (const auto& k : arr(c, "matchLabelKeys"))
      sc.match_label_keys.push_back(k.get<std::string>());
    sc.min_domains = c.value("minDomains", 1);
    sc.node_affinity_honor = str(c, "nodeAffinityPolicy") != "Ignore";
    sc.node_taints_honor = str(c, "nodeTaintsPolicy") == "Honor";
    s.spread.push_back(std::move(sc));
  }
  for (const auto& v : arr(spec, "volumes"))
    if (v.contains("persistentVolumeClaim"))
      s.claims.push_back(str(v["persistentVolumeClaim"], "claimName"));
  return s;
}

}  // namespace

Pod pod_from_json(const json& p) {
  PodSpecPool own;
  return pod_from_json(p, own);
}

Pod pod_from_json(const json& p, PodSpecPool& pool) {
  Pod pod;
  json md = obj(p, "metadata");
  read_name(md, pod.ns, pod.name);
  pod.uid = str(md, "uid");
  pod.created = str(md, "creationTimestamp");
  pod.terminating = md.contains("deletionTimestamp") && !md["deletionTimestamp"].is_null();
  json spec = obj(p, "spec");
  pod.node = str(spec, "nodeName");
  pod.set_spec(pool.intern(pod_spec_from_json(md, spec)));
  json status = obj(p, "status");
  pod.phase = str(status, "phase");
  std::optional<double> scheduled = parse_time(pod.created), ready_at;
  for (const auto& c : arr(status, "conditions")) {
    if (str(c, "type") == "PodScheduled" && str(c, "status") == "True")
      if (auto t = parse_time(str(c, "lastTransitionTime"))) scheduled = t;
    if (str(c, "type") == "Ready" && str(c, "status") == "True") {
      pod.ready = true;
      ready_at = parse_time(str(c, "lastTransitionTime"));
    }
  }
  if (pod.ready && ready_at && scheduled && *ready_at >= *scheduled)
    pod.time_to_ready = *ready_at - *scheduled;
  return pod;
}

Pdb pdb_from_json(const json& j) {
  Pdb pdb;
  json md = obj(j, "metadata");
  read_name(md, pdb.ns, pdb.name);
  json spec = obj(j, "spec");
  // policy/v1: an empty selector selects every pod of the namespace.
  pdb.selector =
      spec.contains("selector") && !spec["selector"].is_null() ? spec["selector"] : json::object();
  if (spec.contains("minAvailable")) pdb.min_available = spec["minAvailable"];
  if (spec.contains("maxUnavailable")) pdb.max_unavailable = spec["maxUnavailable"];
  pdb.disruptions_allowed = obj(j, "status").value("disruptionsAllowed", 0);
  return pdb;
}

PersistentVolume volume_from_json(const json& j) {
  PersistentVolume pv;
  json md = obj(j, "metadata");
  pv.name = str(md, "name");
  pv.labels = obj(md, "labels");
  json na = obj(obj(j, "spec"), "nodeAffinity");
  if (na.contains("required")) pv.node_affinity = na["required"];
  return pv;
}

PersistentVolumeClaim claim_from_json(const json& j) {
  json md = obj(j, "metadata");
  return {str(md, "namespace"), str(md, "name"), str(obj(j, "spec"), "volumeName")};
}

std::vector<Endpoint> endpoints_from_slices(const json& slices) {
  std::vector<Endpoint> out;
  for (const auto& s : slices)
    for (const auto& e : arr(s, "endpoints")) {
      json ref = obj(e, "targetRef");
      json cond = obj(e, "conditions");
      // discovery/v1: a null ready means ready (the field is optional).
      bool ready = !cond.contains("ready") || cond["ready"].is_null() || cond["ready"].get<bool>();
      out.push_back({str(ref, "namespace"), str(ref, "name"), str(e, "zone"), ready});
    }
  return out;
}

bool label_selector_matches(const json& selector, const json& labels) {
  if (selector.is_null()) return false;
  return chaos::selector_matches(chaos::selector_to_string(selector), labels);
}

const Node* Snapshot::node(const std::string& name) const {
  for (const auto& n : nodes)
    if (n.name == name) return &n;
  return nullptr;
}

std::vector<std::string> Snapshot::zones() const {
  std::set<std::string> z;
  for (const auto& n : nodes)
    if (!n.zone.empty()) z.insert(n.zone);
  return {z.begin(), z.end()};
}

const PersistentVolumeClaim* Snapshot::claim(const std::string& ns, const std::string& name) const {
  for (const auto& c : claims)
    if (c.ns == ns && c.name == name) return &c;
  return nullptr;
}

const PersistentVolume* Snapshot::volume(const std::string& name) const {
  for (const auto& v : volumes)
    if (v.name == name) return &v;
  return nullptr;
}

std::string Snapshot::workload_of(const Pod& pod) const {
  const PodSpec& s = pod.spec();
  if (s.owner_kind == "ReplicaSet") {
    auto it = replicaset_owner.find(pod.ns + "/" + s.owner_name);
    if (it != replicaset_owner.end() && !it->second.empty())
      return "Deployment " + pod.ns + "/" + it->second;
  }
  if (s.owner_kind.empty()) return "Pod " + pod.ref();
  return s.owner_kind + " " + pod.ns + "/" + s.owner_name;
}

}  // namespace faultline::plan
