#include "runner/observe/trackers.h"

#include "runner/kube/projection.h"

#include "runner/observe/spread_domains.h"

namespace faultline::observe {
namespace {

using json = nlohmann::json;

std::string str_at(const json& j, const json::json_pointer& p) {
  if (!j.contains(p)) return "";
  const auto& v = j.at(p);
  return v.is_string() ? v.get<std::string>() : "";
}

std::string name_of(const json& obj) { return str_at(obj, json::json_pointer("/metadata/name")); }

int int_at(const json& j, const json::json_pointer& p) {
  if (!j.contains(p)) return 0;
  const auto& v = j.at(p);
  return v.is_number_integer() ? v.get<int>() : 0;
}

bool pod_ready(const json& pod) {
  const json::json_pointer conds("/status/conditions");
  if (!pod.contains(conds) || !pod.at(conds).is_array()) return false;
  for (const auto& c : pod.at(conds))
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  return false;
}

bool pod_active(const json& pod) {
  if (pod.contains(json::json_pointer("/metadata/deletionTimestamp")) &&
      !pod.at(json::json_pointer("/metadata/deletionTimestamp")).is_null())
    return false;
  auto phase = str_at(pod, json::json_pointer("/status/phase"));
  return phase != "Succeeded" && phase != "Failed";
}

std::pair<std::string, std::string> controller_of(const json& obj) {
  const json::json_pointer refs("/metadata/ownerReferences");
  if (!obj.contains(refs) || !obj.at(refs).is_array()) return {};
  for (const auto& r : obj.at(refs))
    if (r.value("controller", false)) return {r.value("kind", ""), r.value("name", "")};
  return {};
}

}  // namespace

std::string node_zone(const json& node) {
  const json::json_pointer labels("/metadata/labels");
  if (node.contains(labels) && node.at(labels).is_object()) {
    const auto& l = node.at(labels);
    for (const char* key :
         {"topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone"})
      if (l.contains(key) && l[key].is_string() && !l[key].get<std::string>().empty())
        return l[key].get<std::string>();
  }
  return kUnknownZone;
}

EndpointsSample EndpointsTracker::apply(const kube::WatchEvent& event, double t) {
  const std::string slice = name_of(event.object);
  if (event.type == "DELETED") {
    slices_.erase(slice);
  } else {
    std::vector<Endpoint> eps;
    const auto& list = event.object.contains("endpoints") && event.object["endpoints"].is_array()
                           ? event.object["endpoints"]
                           : json::array();
    for (const auto& e : list) {
      Endpoint ep;
      ep.key = str_at(e, json::json_pointer("/targetRef/uid"));
      if (ep.key.empty() && e.contains("addresses") && e["addresses"].is_array() &&
          !e["addresses"].empty() && e["addresses"][0].is_string())
        ep.key = e["addresses"][0].get<std::string>();
      // discovery.k8s.io/v1: an absent ready condition means "unknown",
      // which consumers are told to treat as ready.
      const json::json_pointer ready("/conditions/ready");
      ep.ready = !e.contains(ready) || e.at(ready).is_null() ||
                 (e.at(ready).is_boolean() && e.at(ready).get<bool>());
      ep.zone = e.contains("zone") && e["zone"].is_string() ? e["zone"].get<std::string>() : "";
      if (ep.zone.empty()) ep.zone = kUnknownZone;
      zones_.insert(ep.zone);
      eps.push_back(std::move(ep));
    }
    slices_[slice] = std::move(eps);
  }
  return current(t);
}

EndpointsSample EndpointsTracker::current(double t) const {
  // A pod listed in two slices (IPv4 and IPv6) is one endpoint.
  std::map<std::string, Endpoint> unique;
  for (const auto& [name, eps] : slices_) {
    for (const auto& ep : eps) {
      auto [it, inserted] = unique.emplace(ep.key, ep);
      if (!inserted) it->second.ready = it->second.ready || ep.ready;
    }
  }
  EndpointsSample s;
  s.t = t;
  for (const auto& z : zones_) s.ready_by_zone[z] = 0;
  for (const auto& [key, ep] : unique) {
    if (ep.ready) {
      ++s.ready_total;
      ++s.ready_by_zone[ep.zone];
    } else {
      ++s.not_ready_total;
    }
  }
  return s;
}

PodsTracker::Update PodsTracker::apply_pod(const kube::WatchEvent& event, double t, bool sample) {
  std::lock_guard lock(mu_);
  Update u;
  const std::string name = name_of(event.object);
  auto before = pods_.find(name);
  bool was_ready = before != pods_.end() && before->second.active && before->second.ready;
  if (before != pods_.end()) count_locked(before->second, -1);
  if (event.type == "DELETED") {
    pods_.erase(name);
  } else {
    Pod p;
    p.node = str_at(event.object, json::json_pointer("/spec/nodeName"));
    p.active = pod_active(event.object);
    p.ready = p.active && pod_ready(event.object);
    p.owner = controller_of(event.object);
    if (p.active) {
      const json spec = event.object.value("spec", json::object());
      json placement = {{"spec", json::object()}};
      for (const char* k : {"nodeSelector", "affinity", "tolerations", "topologySpreadConstraints"})
        if (spec.contains(k)) placement["spec"][k] = spec[k];
      if (placement != placement_) placement_ = std::move(placement), eligible_.reset();
    }
    if (p.active && !p.owner.first.empty() && owners_seen_.insert(p.owner).second)
      u.new_owner = true;
    if (p.ready && !was_ready) {
      ReadyEvent e;
      e.t = t;
      e.pod = name;
      e.node = p.node;
      e.zone = zone_of_locked(p.node);
      u.became_ready = e;
    }
    count_locked(p, +1);
    pods_[name] = std::move(p);
  }
  if (sample) u.sample = sample_locked(t);
  return u;
}

std::optional<PodsSample> PodsTracker::apply_node(const kube::WatchEvent& event, double t) {
  std::lock_guard lock(mu_);
  const std::string name = name_of(event.object);
  std::string zone = event.type == "DELETED" ? "" : node_zone(event.object);
  auto it = node_zone_.find(name);
  std::string old = it == node_zone_.end() ? "" : it->second;
  if (event.type == "DELETED") {
    // Keep the zone: pods bound to a deleted node still belong to its zone
    // until they are gone, and the zone stays known for skew.
    return std::nullopt;
  }
  node_zone_[name] = zone;
  if (zone != old) recount_locked();  // its pods' counts were under the old zone
  json kept = {
      {"metadata",
       {{"name", name}, {"labels", event.object["metadata"].value("labels", json::object())}}},
      {"spec",
       {{"taints", event.object.value("spec", json::object()).value("taints", json::array())}}}};
  if (nodes_[name] != kept) nodes_[name] = std::move(kept), eligible_.reset();
  bool new_zone = zones_.insert(zone).second;
  if (zone == old && !new_zone) return std::nullopt;
  bool hosts_pods = false;
  for (const auto& [pod, p] : pods_) hosts_pods = hosts_pods || p.node == name;
  if (!hosts_pods && !new_zone) return std::nullopt;
  return sample_locked(t);
}

void PodsTracker::set_desired(int desired) {
  std::lock_guard lock(mu_);
  desired_ = desired;
}

void PodsTracker::freeze_desired_fallback() {
  std::lock_guard lock(mu_);
  if (desired_ || desired_fallback_) return;
  int ready = 0;
  for (const auto& [name, p] : pods_) ready += p.ready ? 1 : 0;
  desired_fallback_ = ready;
}

void PodsTracker::set_faulted_zones(const std::vector<std::string>& zones) {
  std::lock_guard lock(mu_);
  faulted_ = std::set<std::string>(zones.begin(), zones.end());
}

bool PodsTracker::desired_known() const {
  std::lock_guard lock(mu_);
  return desired_.has_value();
}

std::set<std::pair<std::string, std::string>> PodsTracker::owners() const {
  std::lock_guard lock(mu_);
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& [name, p] : pods_)
    if (p.active && !p.owner.first.empty()) out.insert(p.owner);
  return out;
}

PodsSample PodsTracker::current(double t) const {
  std::lock_guard lock(mu_);
  return sample_locked(t);
}

std::string PodsTracker::zone_of_locked(const std::string& node) const {
  if (node.empty()) return "";
  auto it = node_zone_.find(node);
  return it == node_zone_.end() ? kUnknownZone : it->second;
}

void PodsTracker::count_locked(const Pod& p, int sign) {
  if (!p.active) return;
  if (p.node.empty()) {
    pending_ += sign;
    return;
  }
  auto zone = zone_of_locked(p.node);
  int& present = pods_by_zone_[zone];
  present += sign;
  if (p.ready) {
    ready_ += sign;
    ready_by_zone_[zone] += sign;
  } else {
    ready_by_zone_.try_emplace(zone, 0);
  }
  // A zone known only through its pods (a node not seen yet) is shown while
  // it holds some.
  if (present == 0 && !zones_.count(zone)) {
    pods_by_zone_.erase(zone);
    ready_by_zone_.erase(zone);
  }
}

void PodsTracker::recount_locked() {
  ready_ = pending_ = 0;
  ready_by_zone_.clear();
  pods_by_zone_.clear();
  for (const auto& [name, p] : pods_) count_locked(p, +1);
}

// O(zones): the counts are kept as pods change (a sample per watch event
// over 10k pods was quadratic, and the tracker fell behind the drain).
PodsSample PodsTracker::sample_locked(double t) const {
  PodsSample s;
  s.t = t;
  for (const auto& z : zones_) {
    s.ready_by_zone[z] = 0;
    s.pods_by_zone[z] = 0;
  }
  for (const auto& [zone, n] : pods_by_zone_) {
    s.pods_by_zone[zone] = n;
    if (faulted_.count(zone)) s.on_faulted_zones += n;
  }
  for (const auto& [zone, n] : ready_by_zone_) s.ready_by_zone[zone] = n;
  s.ready = ready_;
  s.pending = pending_;
  s.desired = desired_ ? *desired_ : desired_fallback_ ? *desired_fallback_ : s.ready;
  if (!placement_.is_null() && !nodes_.empty()) {
    if (!eligible_) {
      eligible_.emplace();
      for (const auto& [node, n] : nodes_)
        if (node_counts_for_spread(placement_, n)) eligible_->insert(zone_of_locked(node));
    }
    s.eligible_zones = *eligible_;
  }
  return s;
}

void project_pod(json& pod) {
  if (!pod.is_object()) return;
  auto controller = controller_of(pod);
  json ready = kube::conditions_of(pod, "Ready");
  json out = kube::kept(
      pod, {{"metadata", {"name", "namespace", "uid", "resourceVersion", "deletionTimestamp"}},
            {"spec",
             {"nodeName", "nodeSelector", "affinity", "tolerations", "topologySpreadConstraints"}},
            {"status", {"phase"}}});
  if (!controller.first.empty())
    out["metadata"]["ownerReferences"] = json::array(
        {{{"kind", controller.first}, {"name", controller.second}, {"controller", true}}});
  if (!ready.empty()) out["status"]["conditions"] = std::move(ready);
  pod = std::move(out);
}

void project_node(json& node) {
  if (!node.is_object()) return;
  node = kube::kept(
      node, {{"metadata", {"name", "uid", "resourceVersion", "labels"}}, {"spec", {"taints"}}});
}

std::optional<PdbSample> pdb_sample(const kube::WatchEvent& event, double t) {
  if (event.type == "DELETED") return std::nullopt;
  PdbSample s;
  s.t = t;
  s.name = name_of(event.object);
  s.ns = str_at(event.object, json::json_pointer("/metadata/namespace"));
  s.desired_healthy = int_at(event.object, json::json_pointer("/status/desiredHealthy"));
  s.current_healthy = int_at(event.object, json::json_pointer("/status/currentHealthy"));
  s.expected_pods = int_at(event.object, json::json_pointer("/status/expectedPods"));
  s.disruptions_allowed = int_at(event.object, json::json_pointer("/status/disruptionsAllowed"));
  const json spec = event.object.value("spec", json::object());
  for (const char* rule : {"minAvailable", "maxUnavailable"})
    if (spec.contains(rule) && (spec[rule].is_number_integer() || spec[rule].is_string()))
      s.rule = std::string(rule) + " " +
               (spec[rule].is_string() ? spec[rule].get<std::string>()
                                       : std::to_string(spec[rule].get<long long>()));
  return s;
}

}  // namespace faultline::observe
