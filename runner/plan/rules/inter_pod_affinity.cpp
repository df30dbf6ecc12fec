// InterPodAffinity, required terms only (pkg/scheduler/framework/plugins/
// interpodaffinity/filtering.go): for a candidate node,
//  - the pod's required anti-affinity: no pod matching a term runs in the
//    node's topology domain — "node(s) didn't match pod anti-affinity rules";
//  - existing pods' required anti-affinity: no pod in the node's domain has a
//    term matching this pod — "node(s) didn't satisfy existing pods
//    anti-affinity rules";
//  - the pod's required affinity: every term has a matching pod in the node's
//    domain, unless no pod anywhere matches and the pod matches its own terms
//    (the first pod of a group) — "node(s) didn't match pod affinity rules".
// A term's namespaces default to the pod's own; namespaceSelector {} means all
// namespaces; other namespaceSelectors are not evaluated (namespaces are not
// in the snapshot) and count as the term's namespaces only.
#include "runner/plan/rules/filter.h"

namespace faultline::plan {

namespace {

// A reference, not json::value's copy: asked for every node of every
// placement (issue 14).
const json& required_terms(const Pod& pod, const char* kind) {
  static const json none = json::array();
  const json& affinity = pod.spec().affinity;
  auto k = affinity.is_object() ? affinity.find(kind) : affinity.end();
  if (k == affinity.end() || !k->is_object()) return none;
  auto terms = k->find("requiredDuringSchedulingIgnoredDuringExecution");
  return terms != k->end() && terms->is_array() ? *terms : none;
}

// Whether `target` is selected by `term`, a term of a pod in namespace `owner_ns`.
bool term_selects(const json& term, const std::string& owner_ns, const Pod& target) {
  bool all_namespaces = term.contains("namespaceSelector") &&
                        term["namespaceSelector"].is_object() && term["namespaceSelector"].empty();
  if (!all_namespaces) {
    json namespaces = term.value("namespaces", json::array());
    bool ns_ok = namespaces.empty() ? target.ns == owner_ns : false;
    for (const auto& n : namespaces) ns_ok = ns_ok || n == target.ns;
    if (!ns_ok) return false;
  }
  return label_selector_matches(term.value("labelSelector", json()), target.spec().labels);
}

std::optional<std::string> domain(const Node& node, const json& term) {
  std::string key = term.value("topologyKey", "");
  if (!node.labels.contains(key)) return std::nullopt;
  return node.labels[key].get<std::string>();
}

}  // namespace

FilterResult inter_pod_affinity(const Pod& pod, const NodeInfo& info, const ClusterState& cluster) {
  const Node& candidate = *info.node;
  // The pod's anti-affinity.
  for (const auto& term : required_terms(pod, "podAntiAffinity")) {
    auto mine = domain(candidate, term);
    if (!mine) continue;
    for (const auto& other : cluster.nodes) {
      if (domain(*other.node, term) != mine) continue;
      for (const Pod* p : other.pods)
        if (term_selects(term, pod.ns, *p)) return "node(s) didn't match pod anti-affinity rules";
    }
  }
  // Existing pods' anti-affinity against this pod.
  for (size_t i : cluster.with_required_anti_affinity)
    for (const Pod* p : cluster.nodes[i].pods)
      for (const auto& term : required_terms(*p, "podAntiAffinity")) {
        if (!term_selects(term, p->ns, pod)) continue;
        auto theirs = domain(*cluster.nodes[i].node, term);
        if (theirs && theirs == domain(candidate, term))
          return "node(s) didn't satisfy existing pods anti-affinity rules";
      }
  // The pod's affinity.
  const json& affinity = required_terms(pod, "podAffinity");
  if (affinity.empty()) return std::nullopt;
  bool all_terms_here = true, any_match_anywhere = false, self_match = true;
  for (const auto& term : affinity) {
    self_match = self_match && term_selects(term, pod.ns, pod);
    auto mine = domain(candidate, term);
    bool here = false;
    for (const auto& other : cluster.nodes)
      for (const Pod* p : other.pods) {
        if (!term_selects(term, pod.ns, *p)) continue;
        any_match_anywhere = true;
        here = here || (mine && domain(*other.node, term) == mine);
      }
    all_terms_here = all_terms_here && here;
  }
  if (all_terms_here) return std::nullopt;
  if (!any_match_anywhere && self_match && domain(candidate, affinity[0])) return std::nullopt;
  return "node(s) didn't match pod affinity rules";
}

}  // namespace faultline::plan
