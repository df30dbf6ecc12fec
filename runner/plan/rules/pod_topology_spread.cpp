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
// As in the plugin, the counts are made once per pod (PreFilter) and each
// node is judged against them (Filter).
#include <climits>
#include <map>
#include <unordered_map>

#include "runner/plan/rules/filter.h"

namespace faultline::plan {

namespace {

json effective_selector(const SpreadConstraint& c, const Pod& pod) {
  json s = c.label_selector;
  if (s.is_null()) return s;
  for (const auto& key : c.match_label_keys)
    if (pod.spec().labels.contains(key)) s["matchLabels"][key] = pod.spec().labels[key];
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
  if (c.node_taints_honor && untolerated_taint(node, pod.spec().tolerations)) return false;
  return true;
}

}  // namespace

SpreadState pod_topology_spread_prefilter(const Pod& pod, const ClusterState& cluster) {
  SpreadState st;
  std::vector<SpreadConstraint> hard;
  for (const auto& c : pod.spec().spread)
    if (c.hard) hard.push_back(c);
  for (const auto& c : hard) {
    SpreadState::Constraint sc;
    sc.topology_key = c.topology_key;
    sc.max_skew = c.max_skew;
    json selector = effective_selector(c, pod);
    // Whether a pod matches depends only on its labels, which its template
    // shares: one match per template, not per pod (at 10k pods the match per
    // pod and placement was most of the plan's 151 s, issue 14).
    std::unordered_map<const PodSpec*, bool> matched;
    auto matches = [&](const Pod& p) {
      auto [it, fresh] = matched.try_emplace(&p.spec(), false);
      if (fresh) it->second = label_selector_matches(selector, p.spec().labels);
      return it->second;
    };
    for (const auto& other : cluster.nodes) {
      if (!has_all_keys(*other.node, hard) || !included(c, pod, *other.node)) continue;
      int& count = sc.per_domain[other.node->labels[c.topology_key].get<std::string>()];
      // An empty selector counts nothing (countPodsMatchSelector).
      if (selects_nothing_in_counts(selector)) continue;
      for (const Pod* p : other.pods)
        if (!p->terminating && p->ns == pod.ns && matches(*p)) ++count;
    }
    sc.min_match = INT_MAX;
    for (const auto& [domain, n] : sc.per_domain) sc.min_match = std::min(sc.min_match, n);
    if (sc.per_domain.empty() || static_cast<int>(sc.per_domain.size()) < c.min_domains)
      sc.min_match = 0;
    sc.self_match = label_selector_matches(selector, pod.spec().labels) ? 1 : 0;
    st.constraints.push_back(std::move(sc));
  }
  return st;
}

FilterResult pod_topology_spread(const SpreadState& st, const NodeInfo& info) {
  for (const auto& c : st.constraints) {
    if (!info.node->labels.contains(c.topology_key))
      return "node(s) didn't match pod topology spread constraints (missing required label)";
    auto it = c.per_domain.find(info.node->labels[c.topology_key].get<std::string>());
    int match = it == c.per_domain.end() ? 0 : it->second;
    if (match + c.self_match - c.min_match > c.max_skew)
      return "node(s) didn't match pod topology spread constraints";
  }
  return std::nullopt;
}

FilterResult pod_topology_spread(const Pod& pod, const NodeInfo& info,
                                 const ClusterState& cluster) {
  return pod_topology_spread(pod_topology_spread_prefilter(pod, cluster), info);
}

}  // namespace faultline::plan
