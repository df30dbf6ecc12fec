#include "runner/chaos/chaos.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <thread>

#include "runner/chaos/collateral.h"
#include "runner/chaos/node_faults.h"
#include "runner/chaos/selector.h"
#include "runner/common/error.h"
#include "runner/common/log.h"
#include "runner/common/malloc_arenas.h"
#include "runner/common/parallel.h"

namespace faultline::chaos {

namespace res = kube::resources;
using Kind = kube::ApiError::Kind;

Chaos::Chaos(kube::Client client, Journal& journal, ChaosOptions options)
    : client_(client), journal_(journal), options_(std::move(options)), view_(std::move(client)) {}

void Chaos::check_stop() const {
  if (options_.stop.stop_requested()) throw AbortedError("run aborted");
}

std::set<std::string> Chaos::faulted_zones() const {
  std::lock_guard lock(mutex_);
  return faulted_zones_;
}

std::set<std::string> Chaos::ever_faulted_zones() const {
  std::lock_guard lock(mutex_);
  return ever_faulted_;
}

std::vector<std::string> Chaos::zone_node_names(const std::string& zone, const json& all) {
  auto names = ClusterView::names_in_zone(all, zone);
  if (names.empty()) {
    std::string known;
    for (const auto& z : ClusterView::zones_in(all)) known += (known.empty() ? "" : ", ") + z;
    throw GuardError("zone \"" + zone + "\" has no nodes (zones in this cluster: " + known + ")");
  }
  return names;
}

void Chaos::enter_zone(const std::string& zone, const std::vector<std::string>& nodes,
                       const json& all) {
  size_t zones_total = ClusterView::zones_in(all).size();
  size_t nodes_total = all.size();
  // Nodes already out of service (cordoned by an operator, tainted by a
  // failure) count against max_node_fraction too: the cluster loses them all.
  std::set<std::string> down;
  for (const auto& n : all) {
    const auto& spec = n.value("spec", json::object());
    bool out = spec.value("unschedulable", false);
    for (const auto& t : spec.value("taints", json::array()))
      out = out || t.value("effect", "") == "NoExecute";
    if (out) down.insert(n["metadata"].value("name", ""));
  }
  std::lock_guard lock(mutex_);
  auto after = faulted_zones_;
  after.insert(zone);
  options_.guards.check_zones(after, zones_total);
  auto touched = touched_nodes_;
  touched.insert(down.begin(), down.end());
  touched.insert(nodes.begin(), nodes.end());
  options_.guards.check_nodes(touched.size(), nodes_total);
  faulted_zones_ = after;
  ever_faulted_.insert(zone);
}

void Chaos::leave_zone(const std::string& zone) {
  std::lock_guard lock(mutex_);
  faulted_zones_.erase(zone);
}

json Chaos::node_mutation(const std::string& action, const std::vector<std::string>& nodes,
                          bool undo, const json* listed) {
  check_stop();
  const auto& run = options_.run_id;
  if (undo) {
    // Undo now (mid-script) only what this run did to these nodes.
    std::vector<JournalEntry> mine;
    for (const auto& e : journal_.entries())
      if (e.action == action && e.state == "applied" &&
          std::find(nodes.begin(), nodes.end(), e.name) != nodes.end())
        mine.push_back(e);
    auto outcome = rollback_entries(client_, run, mine, options_.clock, std::chrono::seconds(60),
                                    options_.concurrency, {}, {}, listed);
    for (const auto& e : mine) journal_.update(e.id, e.state, e.note, e.t_reverted);
    journal_.persist();
    {
      std::lock_guard lock(mutex_);
      for (const auto& e : mine) touched_nodes_.erase(e.name);
    }
    if (!outcome.complete)
      throw std::runtime_error("undo incomplete: " + outcome.remaining.front());
    return {{"nodes", mine.size()}};
  }
  auto in_flight = journal_.mutating();
  std::vector<JournalEntry> intents;
  for (const auto& n : nodes) intents.push_back({0, action, "node", "", n, "", "", "", -1, -1});
  auto ids = journal_.intend(std::move(intents));  // persisted before any mutation
  std::vector<size_t> idx(nodes.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::map<std::string, const json*> known;  // into *listed, which outlives the fan-out
  if (listed)
    for (const auto& n : *listed) known[n["metadata"].value("name", "")] = &n;
  std::vector<NodeChange> changes(nodes.size(), NodeChange::Gone);
  auto errors = parallel_for_each<size_t>(idx, options_.concurrency, [&](const size_t& i) {
    auto it = known.find(nodes[i]);
    const json* node = it == known.end() ? nullptr : it->second;
    changes[i] = action == "cordon" ? chaos::cordon_node(client_, nodes[i], run, node)
                                    : chaos::taint_node(client_, nodes[i], run, node);
  });
  int applied = 0, already = 0;
  std::string first_error;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (errors[i]) {
      try {
        std::rethrow_exception(errors[i]);
      } catch (const std::exception& e) {
        // Left "intended": rollback checks the node and undoes it if it happened.
        journal_.update(ids[i], "failed", e.what());
        if (first_error.empty()) first_error = "node/" + nodes[i] + ": " + e.what();
      }
    } else if (changes[i] == NodeChange::Applied) {
      journal_.update(ids[i], "applied", "", options_.clock());
      ++applied;
      std::lock_guard lock(mutex_);
      touched_nodes_.insert(nodes[i]);
    } else {
      journal_.update(ids[i], "skipped",
                      changes[i] == NodeChange::Gone
                          ? "node gone"
                          : "already " + action + "ed before the run: left as it was");
      ++already;
    }
  }
  journal_.persist();
  if (!first_error.empty()) throw std::runtime_error(action + " failed on " + first_error);
  return {{"nodes", applied}, {"unchanged", already}};
}

// One list of the nodes serves a fault whole: the zone's names, the guards'
// totals and each node's resourceVersion for its patch (at 1,000 nodes three
// lists and a GET per node were half of a cordon's requests, issue 14).
json Chaos::cordon_zone(const std::string& zone) {
  json all = view_.nodes();
  auto nodes = zone_node_names(zone, all);
  enter_zone(zone, nodes, all);
  auto result = node_mutation("cordon", nodes, false, &all);
  if (on_fault_) on_fault_("cordon " + zone);
  log::info("cordoned zone " + zone + ": " + result.dump());
  return result;
}

json Chaos::uncordon_zone(const std::string& zone) {
  json all = view_.nodes();  // the zone's names and each node's state for its patch
  auto result = node_mutation("cordon", zone_node_names(zone, all), true, &all);
  leave_zone(zone);
  if (on_fault_) on_fault_("uncordon " + zone);
  return result;
}

json Chaos::cordon_node(const std::string& node) {
  json all = view_.nodes();
  std::string zone = view_.zone_of_node(node);  // from the list just made
  if (zone.empty() && all.empty()) throw GuardError("node \"" + node + "\" not found");
  enter_zone(zone, {node}, all);
  auto result = node_mutation("cordon", {node}, false, &all);
  if (on_fault_) on_fault_("cordon " + node);
  return result;
}

json Chaos::uncordon_node(const std::string& node) { return node_mutation("cordon", {node}, true); }

json Chaos::fail_zone(const std::string& zone) {
  json all = view_.nodes();
  auto nodes = zone_node_names(zone, all);
  std::set<std::string> zone_nodes(nodes.begin(), nodes.end());
  // Every pod of the cluster, page by page, keeping only those on the zone
  // and only what the collateral check reads (10k whole pods were ~250 MB).
  kube::ListOptions each;
  each.project = project_for_collateral;
  json on_zone = json::array();
  client_.list_each(
      res::kPods, "", each,
      [&](json& pod) {
        if (zone_nodes.count(pod_node(pod))) on_zone.push_back(std::move(pod));
        return true;
      },
      [&] { on_zone = json::array(); });
  auto collateral = zone_failure_collateral(on_zone, zone_nodes, options_.guards);
  if (!collateral.empty() && !options_.guards.allow_collateral) {
    std::string list;
    for (size_t i = 0; i < collateral.size() && i < 5; ++i) list += (i ? ", " : "") + collateral[i];
    if (collateral.size() > 5) list += ", ...";
    throw GuardError("guard: failing zone " + zone + " would evict " +
                     std::to_string(collateral.size()) + " pod(s) outside guards.namespaces (" +
                     list + "); set guards.allow_collateral: true to accept that");
  }
  enter_zone(zone, nodes, all);
  auto result = node_mutation("taint", nodes, false, &all);
  if (!collateral.empty()) {
    result["collateral"] = collateral;
    for (const auto& p : collateral)
      log::warn("fail_zone " + zone + ": collateral eviction of " + p);
  }
  if (on_fault_)
    on_fault_("fail " + zone +
              (collateral.empty() ? ""
                                  : " (" + std::to_string(collateral.size()) +
                                        " pod(s) outside guards.namespaces evicted too)"));
  log::info("failed zone " + zone + " (NoExecute taint " + kFailureTaintKey +
            "): " + result.dump());
  return result;
}

json Chaos::restore_zone(const std::string& zone) {
  json all = view_.nodes();
  auto nodes = zone_node_names(zone, all);
  auto result = node_mutation("taint", nodes, true, &all);
  node_mutation("cordon", nodes, true);  // lists afresh: the untaints moved the nodes' specs
  leave_zone(zone);
  if (on_fault_) on_fault_("restore " + zone);
  return result;
}

// The node list is the cordon's, not the drain's: it is freed before the
// drain starts (at 1,000 nodes it was 4 MB of the drain's peak heap, issue
// 14), and so is what the cordon's fan-out left behind.
json Chaos::drain_zone(const std::string& zone, const DrainOptions& options) {
  std::vector<std::string> nodes;
  {
    json all = view_.nodes();
    nodes = zone_node_names(zone, all);
    enter_zone(zone, nodes, all);
    node_mutation("cordon", nodes, false, &all);
  }
  common::release_free_memory();
  if (on_fault_) on_fault_("drain " + zone);
  return drain(nodes, options);
}

json Chaos::drain_node(const std::string& node, const DrainOptions& options) {
  {
    json all = view_.nodes();
    enter_zone(view_.zone_of_node(node), {node}, all);
    node_mutation("cordon", {node}, false, &all);
  }
  common::release_free_memory();
  if (on_fault_) on_fault_("drain " + node);
  return drain({node}, options);
}

json Chaos::delete_pods(const std::string& action, const std::vector<json>& pods,
                        std::optional<int64_t> grace) {
  check_stop();
  for (const auto& p : pods) options_.guards.check_namespace(p["metadata"].value("namespace", ""));
  auto in_flight = journal_.mutating();
  std::vector<JournalEntry> intents;
  for (const auto& p : pods)
    intents.push_back({0, action, "pod", p["metadata"].value("namespace", ""),
                       p["metadata"].value("name", ""), p["metadata"].value("uid", ""), "", "", -1,
                       -1});
  auto ids = journal_.intend(std::move(intents));
  std::vector<size_t> idx(pods.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  // A pod already gone (404) or replaced under its name (409 on the UID
  // precondition) was not killed by us: it is not counted as killed.
  std::vector<char> not_ours(pods.size(), 0);
  auto errors = parallel_for_each<size_t>(idx, options_.concurrency, [&](const size_t& i) {
    kube::DeleteOptions del;
    del.grace_period_seconds = grace;
    del.precondition_uid = pods[i]["metadata"].value("uid", "");  // never a same-named replacement
    try {
      client_.remove(res::kPods, pods[i]["metadata"].value("namespace", ""),
                     pods[i]["metadata"].value("name", ""), del);
    } catch (const kube::ApiError& e) {
      if (e.kind() != Kind::NotFound && e.kind() != Kind::Conflict) throw;
      not_ours[i] = 1;
      journal_.update(ids[i], "skipped",
                      e.kind() == Kind::NotFound ? "already gone" : "replaced before the kill");
      return;
    }
    journal_.update(ids[i], "applied", "", options_.clock());
  });
  json killed = json::array();
  std::string first_error;
  for (size_t i = 0; i < pods.size(); ++i) {
    if (!errors[i]) {
      if (!not_ours[i]) killed.push_back(pods[i]["metadata"].value("name", ""));
      continue;
    }
    try {
      std::rethrow_exception(errors[i]);
    } catch (const std::exception& e) {
      journal_.update(ids[i], "failed", e.what());
      if (first_error.empty()) first_error = pod_ref(pods[i]) + ": " + e.what();
    }
  }
  journal_.persist();
  if (!first_error.empty()) throw std::runtime_error("deleting pods failed: " + first_error);
  return killed;
}

json Chaos::kill_pods(const KillOptions& o) {
  options_.guards.check_namespace(o.ns);
  kube::ListOptions list;
  list.label_selector = o.selector;
  list.project = project_pod_state;
  std::vector<json> candidates;
  for (const auto& p : items(client_.list(res::kPods, o.ns, list))) {
    if (pod_terminating(p)) continue;
    if (!o.node.empty() && pod_node(p) != o.node) continue;
    if (!o.zone.empty() && view_.zone_of_node(pod_node(p)) != o.zone) continue;
    candidates.push_back(p);
  }
  std::sort(candidates.begin(), candidates.end(), [](const json& a, const json& b) {
    return a["metadata"]["name"] < b["metadata"]["name"];
  });
  // Which pods die is random, but reproducible from the run id (in the report).
  std::mt19937 rng(static_cast<unsigned>(std::hash<std::string>{}(options_.run_id)));
  std::shuffle(candidates.begin(), candidates.end(), rng);
  const size_t matched = candidates.size();
  size_t n = 1;
  if (o.count) n = static_cast<size_t>(std::max(0, *o.count));
  if (o.percent)
    n = static_cast<size_t>(std::ceil(*o.percent / 100.0 * static_cast<double>(matched)));
  // Asking for more than there is, or for every replica, is a typo or an
  // outage, not a drill: refused unless the script says so.
  if (!o.allow_all && o.count && n > matched)
    throw GuardError("chaos.kill_pods: count " + std::to_string(n) + " is more than the " +
                     std::to_string(matched) + " matching pod(s) (selector \"" + o.selector +
                     "\"); set allow_all = true to kill them all");
  if (!o.allow_all && matched > 0 && n >= matched)
    throw GuardError("chaos.kill_pods: killing " + std::to_string(n) + " of " +
                     std::to_string(matched) +
                     " matching pod(s) would take every replica; set allow_all = true to allow it");
  candidates.resize(std::min(n, matched));
  if (!o.zone.empty()) {
    std::lock_guard lock(mutex_);
    ever_faulted_.insert(o.zone);
  }
  json killed = delete_pods("delete", candidates, o.grace_seconds);
  if (on_fault_)
    on_fault_("kill " + std::to_string(killed.size()) + " of " + std::to_string(matched) +
              " matching pod(s)");
  return {{"killed", killed}, {"matched", matched}};
}

json Chaos::violate_pdb(const std::string& ns, const std::string& name, int by,
                        std::optional<int64_t> grace) {
  options_.guards.check_namespace(ns);
  json pdb = client_.get(res::kPodDisruptionBudgets, ns, name);
  std::string selector = selector_to_string(pdb["spec"].value("selector", json::object()));
  kube::ListOptions list;
  list.label_selector = selector;
  list.project = project_pod_state;
  std::vector<json> healthy;
  size_t expected = 0;
  for (const auto& p : items(client_.list(res::kPods, ns, list))) {
    if (pod_terminating(p)) continue;
    ++expected;
    if (pod_ready(p)) healthy.push_back(p);
  }
  auto resolve = [&](const json& v) -> int {
    if (v.is_number()) return v.get<int>();
    std::string s = v.get<std::string>();
    if (!s.empty() && s.back() == '%')
      return static_cast<int>(std::ceil(std::stod(s) / 100.0 * static_cast<double>(expected)));
    return std::stoi(s);
  };
  int min_available;
  if (pdb["spec"].contains("minAvailable")) {
    min_available = resolve(pdb["spec"]["minAvailable"]);
  } else if (pdb["spec"].contains("maxUnavailable")) {
    min_available = static_cast<int>(expected) - resolve(pdb["spec"]["maxUnavailable"]);
  } else {
    throw GuardError("PodDisruptionBudget " + ns + "/" + name +
                     " has neither minAvailable nor maxUnavailable");
  }
  int to_kill = std::max(0, static_cast<int>(healthy.size()) - min_available + by);
  to_kill = std::min<int>(to_kill, static_cast<int>(healthy.size()));
  std::sort(healthy.begin(), healthy.end(), [](const json& a, const json& b) {
    return a["metadata"]["name"] < b["metadata"]["name"];
  });
  healthy.resize(static_cast<size_t>(to_kill));
  json killed = delete_pods("delete", healthy, grace);
  if (on_fault_) on_fault_("violate pdb " + name + " by " + std::to_string(by));
  log::info("violate_pdb " + ns + "/" + name + ": minAvailable " + std::to_string(min_available) +
            ", deleted " + std::to_string(killed.size()) + " of " + std::to_string(expected) +
            " pods");
  return {
      {"killed", killed}, {"min_available", min_available}, {"healthy_before", healthy.size() + 0}};
}

RollbackOutcome Chaos::rollback(std::chrono::seconds deadline) {
  auto entries = journal_.entries();
  auto persist_round = [&] {
    for (const auto& e : entries) journal_.update(e.id, e.state, e.note, e.t_reverted);
    try {
      journal_.persist();
    } catch (const std::exception& ex) {
      // The nodes carry their own annotations; the next round tries again.
      log::warn(std::string("rollback: persisting the journal failed: ") + ex.what());
    }
  };
  auto outcome = rollback_entries(client_, options_.run_id, entries, options_.clock, deadline,
                                  options_.concurrency, {}, persist_round);
  for (const auto& e : entries) journal_.update(e.id, e.state, e.note, e.t_reverted);
  {
    std::lock_guard lock(mutex_);
    faulted_zones_.clear();
    touched_nodes_.clear();
  }
  return outcome;
}

}  // namespace faultline::chaos
