// Small node/pod fixtures for the scheduler-rule tests, in the spirit of the
// scheduler's own st.MakeNode() / st.MakePod() builders.
#pragma once

#include <deque>
#include <string>

#include "runner/common/error.h"
#include "runner/plan/rules/filter.h"
#include "runner/plan/simulate.h"

namespace faultline::plan::testing {

inline Node make_node(const std::string& name, const std::string& zone, int64_t milli_cpu = 8000,
                      int64_t pods = 110) {
  Node n;
  n.name = name;
  n.zone = zone;
  n.labels = {{"kubernetes.io/hostname", name}};
  if (!zone.empty()) n.labels["topology.kubernetes.io/zone"] = zone;
  n.allocatable = {milli_cpu, int64_t{32} << 30, int64_t{100} << 30, pods};
  return n;
}

inline Pod make_pod(const std::string& name, const std::string& node = "",
                    json labels = {{"foo", "bar"}}, int64_t milli_cpu = 0) {
  Pod p;
  p.ns = "default";
  p.name = name;
  p.node = node;
  p.edit_spec().labels = std::move(labels);
  p.phase = node.empty() ? "Pending" : "Running";
  p.ready = !node.empty();
  p.edit_spec().requests = {milli_cpu, 0, 0, 1};
  p.edit_spec().owner_kind = "ReplicaSet";
  p.edit_spec().owner_name = "rs";
  return p;
}

inline SpreadConstraint spread(const std::string& key, int max_skew,
                               json selector = {{"matchLabels", {{"foo", "bar"}}}}) {
  SpreadConstraint c;
  c.topology_key = key;
  c.max_skew = max_skew;
  c.hard = true;
  c.label_selector = std::move(selector);
  return c;
}

// A Snapshot and its ClusterState; filter(pod, node) runs the cluster-wide rules.
struct Cluster {
  Snapshot snapshot;
  ClusterState state;
  void build() { state = cluster_state(snapshot); }
  const NodeInfo& info(const std::string& node) const {
    for (const auto& n : state.nodes)
      if (n.node->name == node) return n;
    throw std::runtime_error("no node " + node);
  }
};

}  // namespace faultline::plan::testing
