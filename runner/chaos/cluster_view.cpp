#include "runner/chaos/cluster_view.h"

#include <algorithm>
#include <set>

#include "runner/kube/projection.h"

namespace faultline::chaos {

namespace res = kube::resources;

// Not a node's images, addresses, capacity or managedFields (a kwok node is
// ~5 KB of JSON; at 1,000 nodes the whole list was ~20 MB of DOM, issue 14).
void project_node_facts(json& node) {
  if (!node.is_object()) return;
  json conditions = kube::conditions_of(node);
  json spec =
      node.contains("spec") && node["spec"].is_object() ? std::move(node["spec"]) : json::object();
  json out = kube::kept(
      node,
      {{"metadata", {"name", "uid", "resourceVersion", "labels", "annotations"}}, {"status", {}}});
  // The spec whole (podCIDRs, providerID, taints, unschedulable: ~200 bytes):
  // a patch from a list is tested against it (node_faults.cpp).
  out["spec"] = std::move(spec);
  if (!conditions.empty()) out["status"]["conditions"] = std::move(conditions);
  node = std::move(out);
}

json ClusterView::nodes() {
  kube::ListOptions projected;
  projected.project = project_node_facts;
  json items = client_.list(res::kNodes, "", projected)["items"];
  std::lock_guard lock(mutex_);
  refresh_zones_locked(items);
  return items;
}

void ClusterView::refresh_zones_locked(const json& items) {
  node_zone_.clear();
  for (const auto& n : items) {
    const auto& labels = n["metadata"].value("labels", json::object());
    node_zone_[n["metadata"].value("name", "")] = labels.value(kZoneLabel, "");
  }
}

std::vector<std::string> ClusterView::zones() { return zones_in(nodes()); }

namespace {
std::string zone_label(const json& node) {
  return node["metadata"].value("labels", json::object()).value(kZoneLabel, "");
}
}  // namespace

std::vector<std::string> ClusterView::zones_in(const json& nodes) {
  std::set<std::string> zones;
  for (const auto& n : nodes)
    if (auto z = zone_label(n); !z.empty()) zones.insert(z);
  return {zones.begin(), zones.end()};
}

std::vector<std::string> ClusterView::names_in_zone(const json& nodes, const std::string& zone) {
  std::vector<std::string> names;
  for (const auto& n : nodes)
    if (zone_label(n) == zone) names.push_back(n["metadata"].value("name", ""));
  return names;
}

std::vector<json> ClusterView::nodes_in_zone(const std::string& zone) {
  std::vector<json> out;
  for (const auto& n : nodes())
    if (zone_label(n) == zone) out.push_back(n);
  return out;
}

std::string ClusterView::zone_of_node(const std::string& node) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = node_zone_.find(node); it != node_zone_.end()) return it->second;
  }
  nodes();
  std::lock_guard lock(mutex_);
  auto it = node_zone_.find(node);
  return it == node_zone_.end() ? "" : it->second;
}

size_t ClusterView::node_count() { return nodes().size(); }

bool pod_ready(const json& pod) {
  if (pod_terminating(pod)) return false;
  const auto& status = pod.value("status", json::object());
  for (const auto& c : status.value("conditions", json::array()))
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  return false;
}

void project_pod_state(json& pod) {
  if (!pod.is_object()) return;
  json ready = kube::conditions_of(pod, "Ready");
  json out = kube::kept(
      pod, {{"metadata", {"name", "namespace", "uid", "deletionTimestamp", "ownerReferences"}},
            {"spec", {"nodeName"}},
            {"status", {"phase"}}});
  if (!ready.empty()) out["status"]["conditions"] = std::move(ready);
  pod = std::move(out);
}

bool pod_terminating(const json& pod) { return pod["metadata"].contains("deletionTimestamp"); }

std::string pod_node(const json& pod) {
  return pod.value("spec", json::object()).value("nodeName", "");
}

std::string pod_ref(const json& pod) {
  return pod["metadata"].value("namespace", "") + "/" + pod["metadata"].value("name", "");
}

std::string controller_kind(const json& pod) {
  for (const auto& o : pod["metadata"].value("ownerReferences", json::array()))
    if (o.value("controller", false)) return o.value("kind", "");
  return "";
}

}  // namespace faultline::chaos
