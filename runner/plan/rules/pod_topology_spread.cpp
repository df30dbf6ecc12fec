// PodTopologySpread, hard constraints only (pkg/scheduler/framework/plugins/
// podtopologyspread/filtering.go calPreFilterState + Filter, common.go):
//  - only whenUnsatisfiable: DoNotSchedule constraints filter;
//  - matchLabelKeys add "key=<the pod's value>" to the selector;
//  - a node counts as a domain only if it has every constraint's topology key
//    and passes the inclusion policies: nodeAffinityPolicy Honor (default) =
//    the pod's required node affinity matches; nodeTaintsPolicy Honor = the
//    pod tolerates its NoSchedule/NoExecute taints (default Ignore: a failed,
//    tainted zone stays a domain with 0 pods — the classic stall);
//  - matching pods are counted per domain, same namespace, terminating ones
//    skipped (#87621);
//  - global minimum = the least-populated domain, or 0 when there are fewer
//    domains than minDomains;
//  - skew = count(node's domain) + (1 if the pod matches) − minimum; fail when
//    skew > maxSkew, or when the node lacks the topology key.
#include <climits>
#include <map>

#include "runner/plan/rules/filter.h"

namespace faultline::plan {

namespace {

json effective_selector(const SpreadConstraint& c, const Pod& pod) {
  json s = c.label_selector;
  if (s.is_null()) return s;
  for (const auto& key : c.match_label_keys)
    if (pod.labels.contains(key)) s["matchLabels"][key] = pod.labels[key];
  return s;
}

// labels.Selector.Empty(): no requirement at all.
bool selects_nothing_in_counts(const json& s) {
  if (s.is_null()) return true;
  return s.value("matchLabels", json::object()).empty() &&
         s.value("matchExpressions", json::array()).empty();
}

bool has_all_keys(const Node& node, const std::vector<SpreadConstraint>& hard) {
  for (const auto& c : hard)
    if (!node.labels.contains(c.topology_key)) return false;
  return true;
}

bool included(const SpreadConstraint& c, const Pod& pod, const Node& node) {
  if (c.node_affinity_honor && !matches_required_node_affinity(pod, node)) return false;
  if (c.node_taints_honor && untolerated_taint(node, pod.tolerations)) return false;
  return true;
}

}  // namespace

FilterResult pod_topology_spread(const Pod& pod, const NodeInfo& info,
                                 const ClusterState& cluster) {
  std::vector<SpreadConstraint> hard;
  for (const auto& c : pod.spread)
    if (c.hard) hard.push_back(c);
  if (hard.empty()) return std::nullopt;
  for (const auto& c : hard) {
    std::string key = c.topology_key;
    if (!info.node->labels.contains(key))
      return "node(s) didn't match pod topology spread constraints (missing required label)";
    json selector = effective_selector(c, pod);
    std::map<std::string, int> per_domain;
    for (const auto& other : cluster.nodes) {
      if (!has_all_keys(*other.node, hard) || !included(c, pod, *other.node)) continue;
      int& count = per_domain[other.node->labels[key].get<std::string>()];
      // An empty selector counts nothing (countPodsMatchSelector).
      if (selects_nothing_in_counts(selector)) continue;
      for (const Pod* p : other.pods)
        if (!p->terminating && p->ns == pod.ns && label_selector_matches(selector, p->labels))
          ++count;
    }
    int min_match = INT_MAX;
    for (const auto& [domain, n] : per_domain) min_match = std::min(min_match, n);
    if (per_domain.empty() || static_cast<int>(per_domain.size()) < c.min_domains) min_match = 0;
    int self = label_selector_matches(selector, pod.labels) ? 1 : 0;
    auto it = per_domain.find(info.node->labels[key].get<std::string>());
    int match = it == per_domain.end() ? 0 : it->second;
    if (match + self - min_match > c.max_skew)
      return "node(s) didn't match pod topology spread constraints";
  }
  return std::nullopt;
}

}  // namespace faultline::plan
