// Helpers of the plan e2e tests: workloads of our own in namespace plan-e2e,
// experiments that target them, `faultline plan --output json` parsed, and
// what the real scheduler says about Pending pods.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tests/e2e/experiments/experiment_env.h"

namespace faultline::testing {

inline constexpr const char* kPlanNs = "plan-e2e";

// kubectl apply of a manifest given as text.
void apply(const std::string& yaml);
// The namespace plan-e2e exists and holds nothing of a previous test.
void fresh_plan_namespace();
// Waits until `n` pods labelled app=<app> in plan-e2e are Ready.
void wait_ready(const std::string& app, int n);

// An experiment on app=<app> in plan-e2e (service <app>).
std::string plan_experiment(
    Scratch& scratch, const std::string& app, const std::string& script, const std::string& params,
    const std::vector<std::string>& slos,
    const std::string& timing = "{ warmup: 2s, recovery: 15s, cooldown: 1s }");

// `faultline plan FILE --output json` (kubeconfig: the admin's unless given);
// the JSON, or a test failure and null.
json plan_json(const std::string& experiment_file, int* exit_code = nullptr,
               const std::string& kubeconfig = "");

// The Pending pods of app=<app> and their PodScheduled message (as the
// scheduler wrote it: the FitError sentence, without the preemption tail).
std::vector<std::string> pending_reasons(const std::string& app);

// A predicted SLO by name ("replacement"), or null.
json predicted_slo(const json& plan, const std::string& name);

}  // namespace faultline::testing
