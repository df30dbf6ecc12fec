// Helpers shared by the experiment e2e tests: scratch experiments written on
// the fly, faultline as a child process (to signal it), snapshots of the
// nodes to prove a run left the cluster exactly as it found it, and readers
// for the journal and the reports.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runner/chaos/journal.h"

namespace faultline::testing {

using json = nlohmann::json;

// A temporary folder laid out like the repository: experiments/ for specs and
// lua-scripts/ holding a copy of the stdlib, so a spec written here finds its
// script "beside the experiments folder" exactly as a shipped one does.
// Removed at the end unless the test failed (then its path is printed).
class Scratch {
 public:
  Scratch();
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  const std::filesystem::path& root() const { return root_; }
  std::string path(const std::string& relative) const { return (root_ / relative).string(); }
  // Writes experiments/<name>.yaml; returns its path.
  std::string experiment(const std::string& name, const std::string& yaml) const;
  // Writes lua-scripts/<file>; returns its path.
  std::string script(const std::string& file, const std::string& lua) const;
  // A fresh output directory (not created): out-<n>.
  std::string output_dir();

 private:
  std::filesystem::path root_;
  int outputs_ = 0;
};

// The parts of an experiment spec the tests vary; yaml() fills in the rest
// with the demo app's target and short timing (warm-up 2s, cool-down 1s).
struct ExperimentSpec {
  std::string name = "e2e-drill";
  std::string script = "zone_outage.lua";
  std::string params = "{ zone: zone-a, within: 60s }";
  std::string target = "{ namespace: shop, selector: app=checkout, service: checkout }";
  std::vector<std::string> probes = {"{ name: endpoints, endpoints: { service: checkout } }",
                                     "{ name: pods, pods: {} }"};
  std::vector<std::string> slos = {"{ ready_endpoints: { service: checkout, min: 2 } }"};
  std::vector<std::string> aborts;
  std::string guards = "{ max_zones: 1, namespaces: [shop] }";
  std::string timing = "{ warmup: 2s, recovery: 30s, cooldown: 1s }";
  std::string yaml() const;
};

// Node name -> {spec, labels, annotations}: everything faultline may touch on
// a node, and nothing the control plane changes by itself (status, versions).
using NodeSnapshot = std::map<std::string, json>;
NodeSnapshot snapshot_nodes();
// gtest: every node as in `before`, naming the first differences.
void expect_nodes_as_before(const NodeSnapshot& before);
// expect_nodes_as_before + expect_cluster_clean (no journal, no lease).
void expect_cluster_as_before(const NodeSnapshot& before);

// Every journal ConfigMap in the state namespace, and all their entries.
std::vector<json> journal_configmaps();
std::vector<chaos::JournalEntry> journal_entries();
bool lock_lease_exists();

// The reports of a run: all four written, report.json parsed (a gtest
// failure and an empty object when it is missing or not JSON).
json read_report(const std::string& output_dir);
void expect_reports_written(const std::string& output_dir);
const json* find_slo(const json& report, const std::string& kind);
// The last value of a series in report.json (`ready_pods{zone=zone-b}`).
std::optional<double> last_point(const json& report, const std::string& series);

// The line of `output` that starts with `prefix`, or "" when none does.
std::string line_starting_with(const std::string& output, const std::string& prefix);

// Polls `pred` every 200ms until it holds or `limit` passes.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit);

// `faultline <args> --kubeconfig K --no-progress` as a child process, its
// stdout and stderr going to a file, so a test can signal it mid-run.
class FaultlineProcess {
 public:
  FaultlineProcess(const std::vector<std::string>& args, const std::string& log_file,
                   const std::string& kubeconfig);
  ~FaultlineProcess();  // SIGKILLs and reaps a child still running
  FaultlineProcess(const FaultlineProcess&) = delete;
  FaultlineProcess& operator=(const FaultlineProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // The exit code (128 + signal when killed by one); -1 if still running at `limit`.
  int wait(std::chrono::seconds limit);
  std::string output() const;

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
  std::string log_file_;
};

// deploy_demo(), but without waiting out its patience when the previous test
// left the pods Ready yet bunched (a zone outage leaves 3/3/0, and nothing
// ever moves them back): those are recreated at once.
void fresh_demo();

// The demo PDB (shop/checkout) with another minAvailable, once the
// disruption controller has caught up (status.disruptionsAllowed as expected).
void set_demo_pdb_min_available(int min_available, int expect_disruptions_allowed);

}  // namespace faultline::testing
