// `faultline plan`: what a run would touch, read-only. The script decides the
// faults at run time, so the plan shows, for each zone the experiment may
// fault (params.zone, or every zone), the nodes, the target's pods and PDBs
// there, and whether the other zones have room for the displaced pods.
#include <iostream>
#include <map>

#include "runner/chaos/cluster_view.h"
#include "runner/chaos/collateral.h"
#include "runner/chaos/selector.h"
#include "runner/common/error.h"
#include "runner/experiment/preconditions.h"
#include "runner/experiment/runner.h"
#include "runner/experiment/spec.h"
#include "runner/kube/client.h"
#include "runner/script/lua_host.h"

namespace faultline::experiment {

namespace res = kube::resources;
using json = nlohmann::json;

namespace {

// "250m" → 0.25, "2" → 2.
double cpu_quantity(const std::string& q) {
  if (q.empty()) return 0;
  if (q.back() == 'm') return std::stod(q.substr(0, q.size() - 1)) / 1000.0;
  return std::stod(q);
}

}  // namespace

int plan(const std::string& file, const CommonOptions& options) {
  Experiment e = parse_experiment_file(file);
  for (const auto& p : options.params) apply_param_override(e, p);
  std::string scripts = resolve_scripts_dir(file, options.scripts_dir);
  script::LuaHost(scripts).check(e.script);
  check_script_selectors(scripts, e.script);
  kube::Client client(kube::load_config(options.kube));
  // Bad input is exit 2 here as in validate; what a run would refuse at its
  // preconditions is said, and the plan's verdict is that it would not run.
  auto refusals = check_preconditions(client, e);
  chaos::ClusterView view(client);
  json nodes = view.nodes();
  auto zones = view.zones();
  std::vector<std::string> candidates;
  if (e.params.contains("zone") && e.params["zone"].is_string())
    candidates = {e.params["zone"].get<std::string>()};
  else
    candidates = zones;

  kube::ListOptions list;
  list.label_selector = e.target.selector;
  json pods = client.list(res::kPods, e.target.namespace_, list)["items"];
  json all_pods = client.list(res::kPods, "")["items"];
  std::map<std::string, int> pods_on_node;
  std::map<std::string, double> cpu_used;
  for (const auto& p : all_pods) {
    if (chaos::pod_terminating(p)) continue;
    std::string n = chaos::pod_node(p);
    ++pods_on_node[n];
    for (const auto& c : p["spec"].value("containers", json::array()))
      cpu_used[n] += cpu_quantity(
          c.value("resources", json::object()).value("requests", json::object()).value("cpu", ""));
  }
  double pod_cpu = 0;
  if (!pods.empty())
    for (const auto& c : pods[0]["spec"].value("containers", json::array()))
      pod_cpu += cpu_quantity(
          c.value("resources", json::object()).value("requests", json::object()).value("cpu", ""));

  std::cout << "plan for " << e.name << " (" << file << "), script " << e.script << ", read-only\n";
  std::cout << "cluster: " << client.config().context_name << " " << client.config().server << ", "
            << nodes.size() << " nodes in " << zones.size() << " zones\n";
  std::cout << "target: " << e.target.namespace_ << " " << e.target.selector << ": " << pods.size()
            << " pods\n";
  for (const auto& pdb :
       chaos::items(client.list(res::kPodDisruptionBudgets, e.target.namespace_))) {
    std::cout << "pdb " << pdb["metadata"].value("name", "") << ": "
              << (pdb["spec"].contains("minAvailable")
                      ? "minAvailable " + pdb["spec"]["minAvailable"].dump()
                      : "maxUnavailable " + pdb["spec"].value("maxUnavailable", json("")).dump())
              << ", disruptions allowed now: "
              << pdb.value("status", json::object()).value("disruptionsAllowed", 0) << "\n";
  }
  int verdict = kPassed;
  for (const auto& r : refusals) {
    std::cout << "a run would refuse before any fault: " << r << "\n";
    verdict = kSloFailed;
  }
  for (const auto& zone : candidates) {
    std::vector<std::string> zone_nodes;
    int displaced = 0;
    for (const auto& n : nodes)
      if (n["metadata"].value("labels", json::object()).value(chaos::kZoneLabel, "") == zone)
        zone_nodes.push_back(n["metadata"].value("name", ""));
    for (const auto& p : pods)
      if (view.zone_of_node(chaos::pod_node(p)) == zone) ++displaced;
    int free_slots = 0;
    double free_cpu = 0;
    for (const auto& n : nodes) {
      std::string name = n["metadata"].value("name", "");
      if (n["metadata"].value("labels", json::object()).value(chaos::kZoneLabel, "") == zone)
        continue;
      if (n.value("spec", json::object()).value("unschedulable", false)) continue;
      const auto& alloc = n.value("status", json::object()).value("allocatable", json::object());
      free_slots += std::max(0, std::stoi(alloc.value("pods", "0")) - pods_on_node[name]);
      free_cpu += cpu_quantity(alloc.value("cpu", "0")) - cpu_used[name];
    }
    bool fits = displaced <= free_slots && pod_cpu * displaced <= free_cpu + 1e-9;
    std::cout << "zone " << zone << ": " << zone_nodes.size() << " nodes";
    for (size_t i = 0; i < zone_nodes.size() && i < 10; ++i)
      std::cout << (i ? ", " : " (") << zone_nodes[i];
    if (!zone_nodes.empty()) std::cout << (zone_nodes.size() > 10 ? ", ...)" : ")");
    std::cout << "; " << displaced << " target pods displaced; other zones: " << free_slots
              << " pod slots, " << free_cpu << " CPU free → "
              << (fits ? "capacity OK" : "NOT ENOUGH CAPACITY") << "\n";
    if (!fits) verdict = std::max(verdict, static_cast<int>(kSloFailed));
    // The guards a run would meet at its first fault of this zone: a refusal
    // is bad input for this cluster (exit 2), found before touching it.
    try {
      e.guards.check_zones({zone}, zones.size());
      e.guards.check_nodes(zone_nodes.size(), nodes.size());
    } catch (const GuardError& g) {
      std::cout << "zone " << zone << ": a run would be refused by a guard: " << g.what() << "\n";
      verdict = kInvalidInput;
    }
    // fail_zone's NoExecute taint evicts these too (see chaos/collateral.h).
    auto collateral = chaos::zone_failure_collateral(
        all_pods, std::set<std::string>(zone_nodes.begin(), zone_nodes.end()), e.guards);
    if (!collateral.empty()) {
      std::cout << "  if failed (chaos.fail_zone): " << collateral.size()
                << " pod(s) outside guards.namespaces would be evicted too"
                << (e.guards.allow_collateral ? " (guards.allow_collateral: true)"
                                              : " — refused unless guards.allow_collateral: true")
                << ":";
      for (size_t i = 0; i < collateral.size() && i < 20; ++i) std::cout << " " << collateral[i];
      std::cout << (collateral.size() > 20 ? " ...\n" : "\n");
    }
  }
  std::cout << "guards: max_zones " << e.guards.max_zones << ", max_node_fraction "
            << e.guards.max_node_fraction << ", namespaces";
  for (const auto& n : e.guards.namespaces) std::cout << " " << n;
  std::cout << (e.guards.allow_kube_system ? ", kube-system allowed" : "")
            << "\nnothing was changed\n";
  return verdict;
}

}  // namespace faultline::experiment
