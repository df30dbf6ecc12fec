// The Lua contract implemented over the cluster: every script call lands
// here, is checked (unknown options, guards), and is turned into chaos/,
// cluster reads, waits and ad-hoc probes.
#pragma once

#include "runner/chaos/chaos.h"
#include "runner/dr/drill.h"
#include "runner/experiment/run_context.h"
#include "runner/experiment/spec.h"
#include "runner/observe/observer.h"
#include "runner/script/host_api.h"

namespace faultline::experiment {

using json = nlohmann::json;

class ScriptHost : public script::HostApi {
 public:
  ScriptHost(kube::Client client, chaos::Chaos& chaos, observe::Observer* observer,
             const Experiment& experiment, RunContext& run);

  std::vector<std::string> zones() override;
  json nodes(const json& filter) override;
  json pods(const json& filter) override;
  json workloads(const json& filter) override;
  json pdbs(const json& filter) override;

  json cordon_zone(const std::string& zone) override;
  json uncordon_zone(const std::string& zone) override;
  json cordon_node(const std::string& node) override;
  json uncordon_node(const std::string& node) override;
  json drain_zone(const std::string& zone, const json& options) override;
  json drain_node(const std::string& node, const json& options) override;
  json kill_pods(const json& options) override;
  json violate_pdb(const json& options) override;
  json fail_zone(const std::string& zone, const json& options) override;
  json restore_zone(const std::string& zone) override;

  json until_ready(const json& options) override;
  void sleep(double seconds) override;

  json probe_http(const json& options) override;
  json probe_query(const json& options) override;

  void log(const std::string& level, const std::string& message, const std::string& where) override;
  void mark(const std::string& label) override;

  // dr: a restore drill, when the experiment has spec.dr (set_drill).
  void set_drill(dr::Drill* drill) { drill_ = drill; }
  json dr_backup(const json& options) override;
  json dr_latest_backup(const json& options) override;
  json dr_disaster(const json& options) override;
  json dr_restore(const json& options) override;
  json dr_recovered(const json& options) override;

  // The first guard refusal a chaos call met ("" when none): when the script
  // then fails with nothing journaled, the run refused before touching.
  const std::string& guard_refusal() const { return guard_refusal_; }

 private:
  // Guarded call: GuardError/ApiError become HostError for the script, and an
  // abort stops the script at once.
  template <typename F>
  json guarded(const std::string& what, F&& fn);
  void fault_started(const std::string& zone_or_empty);
  void publish_faulted_zones();  // the observer's faulted zones := the zones down now
  int desired_replicas(const std::string& ns, const std::string& selector);

  kube::Client client_;
  chaos::Chaos& chaos_;
  observe::Observer* observer_;
  const Experiment& experiment_;
  RunContext& run_;
  bool fault_started_ = false;
  std::string guard_refusal_;
  dr::Drill* drill_ = nullptr;
  dr::Drill& drill(const char* function);
};

}  // namespace faultline::experiment
