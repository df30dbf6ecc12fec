// The path of one run (DESIGN.md): validate → lock → preflight → inject →
// observe → verify → rollback → report, and the other commands.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "runner/kube/config.h"

namespace faultline::experiment {

enum ExitCode {
  kPassed = 0,
  kSloFailed = 1,
  kInvalidInput = 2,
  kAborted = 3,
  kClusterError = 4,
  kRollbackIncomplete = 5,
};

// How long rollback may take after a stop. A Job's pod gets SIGTERM and then,
// terminationGracePeriodSeconds later, SIGKILL: the manifests set that grace
// period to 120 s = 3 s for the script to stop (ScriptThread) + this deadline
// + 27 s for the reports and the metrics push. Every rollback request is
// capped by the time left (chaos::rollback_entries).
inline constexpr std::chrono::seconds kRollbackDeadline{90};

struct CommonOptions {
  kube::LoadOptions kube;
  std::string scripts_dir;  // "" → next to the experiment, then ./lua-scripts
  std::string state_namespace = "faultline";
  std::vector<std::string> params;  // key=value overrides
  // recover: the kubeconfig context of a restore drill's other cluster, by
  // its spec.dr.clusters name, when not the one its journal recorded.
  std::map<std::string, std::string> context_for;
};

struct RunOptions : CommonOptions {
  std::string experiment_file;
  std::string output_dir;  // "" → ./faultline-reports/<name>-<timestamp>
  int metrics_port = 0;
  std::string metrics_bind = "0.0.0.0";
  std::string pushgateway;
  bool progress = true;
};

int run(const RunOptions& options);
int validate(const std::string& experiment_file, const CommonOptions& options);
// `output`: "text" or "json". Exit 1 when an SLO is predicted to fail or a
// guard would refuse, else 0 (also when some verdicts are unknown).
int plan(const std::string& experiment_file, const CommonOptions& options, const std::string& output = "text");
int recover(const CommonOptions& options);

// validate's check of the selectors written literally in the script (exit 2).
void check_script_selectors(const std::string& scripts_dir, const std::string& script);

// Where the scripts of an experiment live (see CommonOptions::scripts_dir).
std::string resolve_scripts_dir(const std::string& experiment_file, const std::string& flag);

}  // namespace faultline::experiment
