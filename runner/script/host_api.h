// What a script may do: the C++ side of the Lua contract (DESIGN.md, "The Lua
// API"). The Lua host (lua_host.h) binds each method as module.function and
// converts Lua tables to and from JSON; experiment/ implements it over chaos/,
// observe/ and kube/. Option tables arrive as JSON objects; implementations
// reject unknown or mistyped fields by throwing HostError, which the Lua host
// raises as a Lua error prefixed with the script's file:line.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace faultline::script {

using json = nlohmann::json;

// Misuse of the API by a script (bad argument, guard refusal). Raised in Lua.
class HostError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class HostApi {
 public:
  virtual ~HostApi() = default;

  // cluster: read only.
  virtual std::vector<std::string> zones() = 0;
  virtual json nodes(const json& filter) = 0;      // {zone?, selector?} -> [{name, zone, ready, unschedulable, taints}]
  virtual json pods(const json& filter) = 0;       // {namespace?, selector?, zone?, node?} -> [{name, namespace, node, zone, phase, ready}]
  virtual json workloads(const json& filter) = 0;  // {namespace?, selector?} -> [{kind, name, namespace, replicas, ready}]
  virtual json pdbs(const json& filter) = 0;       // {namespace?} -> [{name, namespace, selector, min_available, max_unavailable, disruptions_allowed}]

  // chaos: every mutation journaled before it is made and undone at rollback.
  virtual json cordon_zone(const std::string& zone) = 0;    // -> {nodes = n}
  virtual json uncordon_zone(const std::string& zone) = 0;  // undoes this run's cordons now
  virtual json cordon_node(const std::string& node) = 0;
  virtual json uncordon_node(const std::string& node) = 0;
  virtual json drain_zone(const std::string& zone, const json& options) = 0;  // {timeout?, grace?} -> {evicted, skipped=[{pod, reason}], failed}
  virtual json drain_node(const std::string& node, const json& options) = 0;
  virtual json kill_pods(const json& options) = 0;      // {selector?, namespace?, zone?, node?, count?, percent?, grace?} -> {killed=[names]}
  virtual json violate_pdb(const json& options) = 0;    // {pdb, namespace?, by?} -> {killed=[names], min_available}
  virtual json fail_zone(const std::string& zone, const json& options) = 0;  // NoExecute taint
  virtual json restore_zone(const std::string& zone) = 0;

  // wait: blocks, returns early (raising) when the run is aborted.
  virtual json until_ready(const json& options) = 0;  // {selector?, namespace?, off_zone?, count?, within} -> {ok, elapsed}
  virtual void sleep(double seconds) = 0;

  // probe: ad-hoc checks; runtime failures are results, not errors.
  virtual json probe_http(const json& options) = 0;   // {url, timeout?, expect_status?} -> {ok, status, latency_ms, error}
  virtual json probe_query(const json& options) = 0;  // {url?, query} -> {ok, value, error}

  // dr: restore drills (runner/dr, lua-scripts/README.md). A run whose
  // experiment has no spec.dr has no drill: each raises. Options:
  // backup {namespaces, wait?, exclude?}; latest_backup {schedule, cluster?};
  // disaster {delete_namespace?, label?}; restore {backup, into_namespace?,
  // from_namespace?, cluster?, wait?, ready_within?, accept_warnings?,
  // resource_modifiers?}; recovered {}.
  virtual json dr_backup(const json&) { no_drill("dr.backup"); }
  virtual json dr_latest_backup(const json&) { no_drill("dr.latest_backup"); }
  virtual json dr_disaster(const json&) { no_drill("dr.disaster"); }
  virtual json dr_restore(const json&) { no_drill("dr.restore"); }
  virtual json dr_recovered(const json&) { no_drill("dr.recovered"); }

  // log: level is debug|info|warn|error; `where` is the script's file:line.
  virtual void log(const std::string& level, const std::string& message, const std::string& where) = 0;
  // A labelled marker on the run's timeline ("zone-a failed").
  virtual void mark(const std::string& label) = 0;

 private:
  [[noreturn]] static void no_drill(const char* function) {
    throw HostError(std::string(function) + ": this experiment has no restore drill (spec.dr)");
  }
};

}  // namespace faultline::script
