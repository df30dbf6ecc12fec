#include "runner/plan/simulate.h"

#include <algorithm>
#include <deque>
#include <set>
#include <unordered_map>

#include "runner/chaos/journal.h"
#include "runner/chaos/selector.h"

namespace faultline::plan {

const char* to_string(FaultKind kind) {
  switch (kind) {
    case FaultKind::Cordon:
      return "cordon_zone";
    case FaultKind::Drain:
      return "drain_zone";
    case FaultKind::FailZone:
      return "fail_zone";
    case FaultKind::KillPods:
      return "kill_pods";
    case FaultKind::ViolatePdb:
      return "violate_pdb";
  }
  return "?";
}

namespace {

void add_requests(Resources& a, const Resources& b, int sign) {
  a.milli_cpu += sign * b.milli_cpu;
  a.memory += sign * b.memory;
  a.ephemeral_storage += sign * b.ephemeral_storage;
  a.pods += sign * b.pods;
}

void assign(ClusterState& cluster, size_t node, const Pod* pod) {
  cluster.nodes[node].pods.push_back(pod);
  if (!pod->finished()) add_requests(cluster.nodes[node].requested, pod->spec().requests, +1);
  auto& anti = cluster.with_required_anti_affinity;
  bool has_anti = !pod->spec()
                       .affinity.value("podAntiAffinity", json::object())
                       .value("requiredDuringSchedulingIgnoredDuringExecution", json::array())
                       .empty();
  if (has_anti && std::find(anti.begin(), anti.end(), node) == anti.end()) anti.push_back(node);
}

bool tolerates_failure(const Pod& pod) {
  const Taint failure{chaos::kFailureTaintKey, "", "NoExecute"};
  for (const auto& t : pod.spec().tolerations) {
    // A toleration with tolerationSeconds only delays the eviction; we do not
    // parse it, so any Exists toleration keeps the pod (documented).
    Toleration any_value = t;
    if (any_value.op == "Equal" && any_value.key == failure.key) any_value.op = "Exists";
    if (any_value.tolerates(failure)) return true;
  }
  return false;
}

// kubectl drain's filter chain (runner/chaos drain): "" when evicted.
std::string drain_skip_reason(const Pod& pod, const Scenario& sc) {
  if (pod.terminating) return "already terminating";
  if (pod.daemonset()) return "DaemonSet-managed";
  if (pod.spec().owner_kind == "Node") return "mirror pod";
  if (pod.finished()) return "finished (" + pod.phase + ")";
  bool allowed = std::find(sc.allowed_namespaces.begin(), sc.allowed_namespaces.end(), pod.ns) !=
                 sc.allowed_namespaces.end();
  if (pod.ns == "kube-system" && !sc.allow_kube_system) allowed = false;
  if (!allowed) return "namespace not in guards.namespaces";
  if (pod.spec().owner_kind.empty()) return "not managed by a controller (would be lost)";
  return "";
}

// ceil(p% × n), the disruption controller's rounding for minAvailable.
int resolve_int_or_percent(const json& v, int total, bool round_up) {
  if (v.is_number()) return v.get<int>();
  std::string s = v.get<std::string>();
  if (!s.empty() && s.back() == '%') {
    double x = std::stod(s) / 100.0 * total;
    return static_cast<int>(round_up ? std::ceil(x - 1e-9) : std::floor(x + 1e-9));
  }
  return std::stoi(s);
}

// The faults change nodes (cordon, taints) and remove pods; they never change
// a pod. So simulate's working copy is everything but the pods, which it reads
// from the snapshot by pointer; only the displaced pods' replacements are new.
// (A whole copy held every pod three more times at once: 10 of the plan's
// 15 MB at 1,500 pods in the issue-14 heap profile.) Every Snapshot field but
// `pods` must be copied here.
Snapshot copy_without_pods(const Snapshot& from) {
  Snapshot to;
  to.nodes = from.nodes;
  to.pdbs = from.pdbs;
  to.volumes = from.volumes;
  to.claims = from.claims;
  to.endpoints = from.endpoints;
  to.volumes_known = from.volumes_known;
  to.notes = from.notes;
  to.replicaset_owner = from.replicaset_owner;
  return to;
}

}  // namespace

bool selects_target(const Scenario& scenario, const Pod& pod) {
  return pod.ns == scenario.target_ns &&
         chaos::selector_matches(scenario.target_selector, pod.spec().labels);
}

ClusterState cluster_state(const Snapshot& snapshot) {
  std::vector<const Pod*> pods;
  pods.reserve(snapshot.pods.size());
  for (const auto& p : snapshot.pods) pods.push_back(&p);
  return cluster_state(snapshot, pods);
}

ClusterState cluster_state(const Snapshot& snapshot, const std::vector<const Pod*>& pods) {
  ClusterState c;
  c.snapshot = &snapshot;
  std::unordered_map<std::string, size_t> index;
  for (const auto& n : snapshot.nodes) {
    index[n.name] = c.nodes.size();
    c.nodes.push_back({&n, {}, {}});
  }
  for (const Pod* p : pods) {
    auto it = index.find(p->node);
    if (it != index.end()) assign(c, it->second, p);
  }
  return c;
}

FilterResult run_filters(const Pod& pod, const NodeInfo& node, const ClusterState& cluster,
                         const SpreadState& spread) {
  if (auto r = node_unschedulable(pod, node)) return r;
  if (auto r = taint_toleration(pod, node)) return r;
  if (auto r = node_affinity(pod, node)) return r;
  if (auto r = node_resources_fit(pod, node)) return r;
  if (auto r = volume_zone(pod, node, *cluster.snapshot)) return r;
  if (auto r = pod_topology_spread(spread, node)) return r;
  if (auto r = inter_pod_affinity(pod, node, cluster)) return r;
  return std::nullopt;
}

std::string fit_error(const Pod& pod, const ClusterState& cluster, std::vector<size_t>* feasible) {
  std::map<std::string, int> reasons;
  SpreadState spread = pod_topology_spread_prefilter(pod, cluster);  // once per pod, as PreFilter
  for (size_t i = 0; i < cluster.nodes.size(); ++i) {
    if (auto r = run_filters(pod, cluster.nodes[i], cluster, spread))
      ++reasons[*r];
    else if (feasible)
      feasible->push_back(i);
  }
  if (feasible && !feasible->empty()) return "";
  std::vector<std::string> parts;
  for (const auto& [reason, n] : reasons) parts.push_back(std::to_string(n) + " " + reason);
  std::sort(parts.begin(), parts.end());
  std::string out = "0/" + std::to_string(cluster.nodes.size()) + " nodes are available";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : ": ") + parts[i];
  return out + ".";
}

Outcome simulate(const Snapshot& original, const Scenario& sc) {
  Snapshot s = copy_without_pods(original);
  Outcome out;
  std::set<std::string> zones, removed;  // removed: "ns/name"
  auto displace = [&](const Pod& p) {
    if (!removed.insert(p.ref()).second) return;
    Placement pl;
    pl.pod = p.ref();
    pl.workload = s.workload_of(p);
    pl.target = selects_target(sc, p);
    pl.replaced = !p.spec().owner_kind.empty() && p.spec().owner_kind != "Node" && !p.daemonset();
    out.displaced.push_back(pl);
    if (pl.target && p.ready)
      ++out.target_displaced_per_zone[s.node(p.node) ? s.node(p.node)->zone : ""];
  };
  auto zone_of = [&](const Pod& p) {
    return s.node(p.node) ? s.node(p.node)->zone : std::string();
  };

  for (const auto& f : sc.faults) {
    bool zonal =
        f.kind == FaultKind::Cordon || f.kind == FaultKind::Drain || f.kind == FaultKind::FailZone;
    if (zonal) zones.insert(f.zone);
    for (auto& n : s.nodes) {
      if (!zonal || n.zone != f.zone) continue;
      if (std::find(out.faulted_nodes.begin(), out.faulted_nodes.end(), n.name) ==
          out.faulted_nodes.end())
        out.faulted_nodes.push_back(n.name);
      // A cordon: spec.unschedulable and the node lifecycle controller's
      // matching taint (TaintNodesByCondition).
      n.unschedulable = true;
      n.taints.push_back({"node.kubernetes.io/unschedulable", "", "NoSchedule"});
      if (f.kind == FaultKind::FailZone)
        n.taints.push_back({chaos::kFailureTaintKey, "<run>", "NoExecute"});
    }
    std::vector<const Pod*> targets_ready;
    for (const auto& p : original.pods) {
      if (removed.count(p.ref()) || p.node.empty()) continue;
      if (f.kind == FaultKind::Drain && zone_of(p) == f.zone) {
        std::string why = drain_skip_reason(p, sc);
        if (why.empty())
          displace(p);
        else
          out.skipped.push_back({p.ref(), why});
      } else if (f.kind == FaultKind::FailZone && zone_of(p) == f.zone) {
        // The taint manager evicts every pod that does not tolerate the taint.
        if (!p.terminating && !p.finished() && !p.daemonset() && !tolerates_failure(p)) displace(p);
      } else if ((f.kind == FaultKind::KillPods || f.kind == FaultKind::ViolatePdb) &&
                 selects_target(sc, p) && !p.terminating &&
                 (f.zone.empty() || zone_of(p) == f.zone)) {
        targets_ready.push_back(&p);
      }
    }
    if (f.kind == FaultKind::KillPods) {
      // Which pods die is random (seeded by the run id): we take the first.
      for (int i = 0; i < f.count && i < static_cast<int>(targets_ready.size()); ++i)
        displace(*targets_ready[i]);
    } else if (f.kind == FaultKind::ViolatePdb) {
      for (const auto& pdb : s.pdbs) {
        if (pdb.name != f.pdb || pdb.ns != sc.target_ns) continue;
        std::vector<const Pod*> healthy;
        int expected = 0;
        for (const auto& p : original.pods)
          if (p.ns == pdb.ns && !p.terminating &&
              label_selector_matches(pdb.selector, p.spec().labels)) {
            ++expected;
            if (p.ready) healthy.push_back(&p);
          }
        std::sort(healthy.begin(), healthy.end(),
                  [](const Pod* a, const Pod* b) { return a->name < b->name; });
        int min_available =
            pdb.min_available
                ? resolve_int_or_percent(*pdb.min_available, expected, true)
                : expected - resolve_int_or_percent(*pdb.max_unavailable, expected, true);
        int kill = std::clamp(static_cast<int>(healthy.size()) - min_available + f.by, 0,
                              static_cast<int>(healthy.size()));
        for (int i = 0; i < kill; ++i) displace(*healthy[static_cast<size_t>(i)]);
      }
    }
  }
  out.faulted_zones.assign(zones.begin(), zones.end());

  // The cluster once the displaced pods are gone, then the scheduler's queue:
  // pods already Pending first (they are older), then the replacements,
  // higher priority first. `queued` owns the queue's pods (a Pending pod is
  // copied, a replacement made from its displaced pod); a deque, so that the
  // cluster's pointers to the placed ones stay valid.
  std::unordered_map<std::string, size_t> displaced_at;  // "ns/name" → index in out.displaced
  for (size_t i = 0; i < out.displaced.size(); ++i) displaced_at[out.displaced[i].pod] = i;
  auto placement_of = [&](const Pod& p) -> Placement* {
    auto it = displaced_at.find(p.ref());
    return it == displaced_at.end() ? nullptr : &out.displaced[it->second];
  };
  std::vector<const Pod*> kept;
  std::deque<Pod> queued;
  for (const auto& p : original.pods)
    if (!removed.count(p.ref())) {
      kept.push_back(&p);
      if (p.node.empty() && !p.finished() && !p.terminating) queued.push_back(p);
    }
  size_t pending = queued.size();
  for (const auto& p : original.pods) {
    if (!removed.count(p.ref())) continue;
    const Placement* pl = placement_of(p);
    if (pl && pl->replaced) {
      Pod& r = queued.emplace_back(p);
      r.node.clear();
      r.ready = false;
      r.terminating = false;
    }
  }
  ClusterState cluster = cluster_state(s, kept);
  std::vector<Pod*> queue;
  for (auto& p : queued) queue.push_back(&p);
  std::stable_sort(
      queue.begin() + static_cast<std::ptrdiff_t>(pending), queue.end(),
      [](const Pod* a, const Pod* b) { return a->spec().priority > b->spec().priority; });

  // Pods of a workload per node (not terminating), counted once per workload
  // and kept up to date as pods are placed: recounting every pod of the
  // cluster for each pod placed was O(pods²) (minutes at 10k pods).
  std::unordered_map<std::string, std::vector<int>> per_node_of;
  auto per_node = [&](const std::string& workload) -> std::vector<int>& {
    auto [it, fresh] = per_node_of.try_emplace(workload);
    if (fresh) {
      it->second.assign(cluster.nodes.size(), 0);
      for (size_t i = 0; i < cluster.nodes.size(); ++i)
        for (const Pod* q : cluster.nodes[i].pods)
          it->second[i] += (!q->terminating && s.workload_of(*q) == workload) ? 1 : 0;
    }
    return it->second;
  };
  for (Pod* p : queue) {
    std::vector<size_t> feasible;
    std::string why = fit_error(*p, cluster, &feasible);
    Placement* pl = placement_of(*p);
    std::vector<int>& same_workload = per_node(s.workload_of(*p));
    if (feasible.empty()) {
      if (pl) pl->pending_reason = why;
      continue;
    }
    std::map<std::string, int> per_zone;
    for (size_t i = 0; i < cluster.nodes.size(); ++i)
      per_zone[cluster.nodes[i].node->zone] += same_workload[i];
    auto key = [&](size_t i) {
      const NodeInfo& n = cluster.nodes[i];
      return std::make_tuple(per_zone[n.node->zone], same_workload[i],
                             -(n.node->allocatable.milli_cpu - n.requested.milli_cpu),
                             n.node->name);
    };
    size_t best = *std::min_element(feasible.begin(), feasible.end(),
                                    [&](size_t a, size_t b) { return key(a) < key(b); });
    p->node = cluster.nodes[best].node->name;
    assign(cluster, best, p);
    ++same_workload[best];
    if (pl) pl->node = p->node, pl->zone = cluster.nodes[best].node->zone;
  }

  for (const auto& z : s.zones()) out.target_per_zone_after[z] = 0;
  for (const auto& n : cluster.nodes)
    for (const Pod* p : n.pods)
      if (selects_target(sc, *p) && !p->terminating && !p->finished())
        ++out.target_per_zone_after[n.node->zone];
  for (const auto& d : out.displaced)
    if (d.target && (d.node.empty() || !d.replaced)) ++out.target_pending;
  return out;
}

}  // namespace faultline::plan
