// `faultline plan`: what a run would do and what it will measure, read-only.
// The faults come from the script's chaos.* calls (runner/plan/script_faults),
// the placement from the kube-scheduler's filters (runner/plan/rules).
#include "runner/experiment/plan.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "runner/chaos/cluster_view.h"
#include "runner/chaos/collateral.h"
#include "runner/chaos/selector.h"
#include "runner/common/error.h"
#include "runner/experiment/preconditions.h"
#include "runner/experiment/runner.h"
#include "runner/kube/client.h"
#include "runner/plan/script_faults.h"
#include "runner/plan/snapshot.h"
#include "runner/script/lua_host.h"

namespace faultline::experiment {

using json = nlohmann::json;

plan::Prediction predict_experiment(const Experiment& e, kube::Client& client,
                                    const std::string& scripts_dir) {
  plan::Snapshot snapshot = plan::load_snapshot(client, e.target.namespace_, e.target.service);
  plan::Scenario scenario;
  scenario.target_ns = e.target.namespace_;
  scenario.target_selector = e.target.selector;
  scenario.allowed_namespaces = e.guards.namespaces;
  scenario.allow_kube_system = e.guards.allow_kube_system;

  bool any_target = false;
  for (const auto& p : snapshot.pods) any_target = any_target || plan::selects_target(scenario, p);
  if (!any_target)
    throw InputError(e.file + ": target " + e.target.namespace_ + " " + e.target.selector +
                     " selects no pod");
  std::ifstream in(scripts_dir + "/" + e.script);
  std::stringstream source;
  source << in.rdbuf();
  auto found = plan::script_faults(source.str(), e.params, plan::busiest_zone(snapshot, scenario),
                                   e.target.service);
  scenario.faults = found.faults;
  for (const auto& f : found.faults)
    if (f.kind == plan::FaultKind::ViolatePdb) {
      bool exists = false;
      for (const auto& pdb : snapshot.pdbs) exists = exists || pdb.name == f.pdb;
      if (!exists)
        throw InputError(e.file + ": PodDisruptionBudget " + e.target.namespace_ + "/" + f.pdb +
                         " does not exist");
    }
  plan::Prediction p = plan::predict(snapshot, scenario, e.slos, e.guards);
  for (const auto& n : found.notes) p.notes.push_back(n);
  // Without a fault it can model, a predicted pass would be a guess.
  if (found.faults.empty())
    for (auto& s : p.slos)
      if (s.verdict == "pass") s.verdict = "unknown", s.why += " (no modelled fault)";
  return p;
}

int plan(const std::string& file, const CommonOptions& options, const std::string& output) {
  if (output != "text" && output != "json")
    throw InputError("--output: expected json or text, got \"" + output + "\"");
  Experiment e = parse_experiment_file(file);
  for (const auto& p : options.params) apply_param_override(e, p);
  std::string scripts = resolve_scripts_dir(file, options.scripts_dir);
  script::LuaHost(scripts).check(e.script);
  check_script_selectors(scripts, e.script);
  kube::Client client(kube::load_config(options.kube));
  // The same read-only preconditions as a run: a zone that does not exist is
  // bad input (exit 2, the run's own message); what a run would refuse
  // before any fault is said, and the verdict is that it would not run.
  auto refusals = check_preconditions(client, e);
  plan::Prediction p = predict_experiment(e, client, scripts);
  std::string verdict = plan::overall(p);
  if (output == "json") {
    json j = plan::to_json(p);
    j["experiment"] = e.name;
    j["file"] = file;
    j["cluster"] = {{"context", client.config().context_name}, {"server", client.config().server}};
    j["guards"] = {{"max_zones", e.guards.max_zones},
                   {"max_node_fraction", e.guards.max_node_fraction},
                   {"namespaces", e.guards.namespaces},
                   {"allow_kube_system", e.guards.allow_kube_system}};
    j["refusals"] = refusals;
    j["target"] = {{"namespace", e.target.namespace_},
                   {"selector", e.target.selector},
                   {"service", e.target.service}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "plan for " << e.name << " (" << file << "), script " << e.script
              << ", read-only\n";
    std::cout << "cluster: " << client.config().context_name << " " << client.config().server
              << "\n";
    std::cout << "target: " << e.target.namespace_ << " " << e.target.selector << ", service "
              << e.target.service << "\n";
    std::cout << plan::to_text(p);
    std::cout << "guards: max_zones " << e.guards.max_zones << ", max_node_fraction "
              << e.guards.max_node_fraction << ", namespaces";
    for (const auto& n : e.guards.namespaces) std::cout << " " << n;
    std::cout << (e.guards.allow_kube_system ? ", kube-system allowed" : "") << "\n";
    for (const auto& n : p.notes) std::cout << "note: " << n << "\n";
    for (const auto& r : refusals)
      std::cout << "a run would refuse before any fault: " << r << "\n";
    std::cout << "nothing was changed\n";
  }
  // A guard refusal is the input asking for more than its guards allow: a
  // run would stop at its first fault with exit 2, so plan says 2 as well.
  if (!p.guard_refusals.empty()) return kInvalidInput;
  return verdict == "fail" || !refusals.empty() ? kSloFailed : kPassed;
}

}  // namespace faultline::experiment
