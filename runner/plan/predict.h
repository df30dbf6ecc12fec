// From the simulated placement to what a run will measure: the minimum ready
// endpoints (total and per zone), each PDB's budget, the drain and
// replacement time bounds, the guard refusals, and a verdict per SLO.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runner/chaos/guards.h"
#include "runner/plan/model.h"
#include "runner/plan/simulate.h"
#include "runner/slo/slo_spec.h"

namespace faultline::plan {

struct PdbPrediction {
  std::string name;
  int expected = 0, healthy = 0, desired_healthy = 0, disruptions_allowed = 0;
  int displaced = 0;    // of its pods, by the faults
  int min_healthy = 0;  // during the fault
  int violated_by = 0;  // desired_healthy − min_healthy when positive
  std::optional<int>
      drain_waves;  // ceil(displaced ÷ disruptionsAllowed); nullopt: the drain cannot start
};

struct SloPrediction {
  std::string name;                 // SloSpec::name(), as the run record names it
  std::string verdict;              // "pass", "fail", "unknown"
  std::string why;                  // the numbers, or why unknown
  std::optional<double> predicted;  // comparable with the run's measured value when known
};

struct Prediction {
  Scenario scenario;
  Outcome outcome;
  int ready_endpoints_now = 0;
  int min_ready_endpoints = 0;
  std::map<std::string, int> min_ready_per_zone;  // zones that survive
  std::vector<PdbPrediction> pdbs;
  std::optional<double> time_to_ready;      // median over the target's Ready pods, s
  int ready_samples = 0;                    // pods it is taken from
  std::optional<double> drain_lower_bound;  // waves × time to Ready, s
  std::optional<double> replacement_lower_bound;
  std::optional<int> skew_after;  // over surviving zones
  std::vector<std::string> guard_refusals, warnings, notes;
  std::vector<SloPrediction> slos;
};

Prediction predict(const Snapshot& snapshot, const Scenario& scenario,
                   const std::vector<slo::SloSpec>& slos, const chaos::Guards& guards);

nlohmann::json to_json(const Prediction& p);
std::string to_text(const Prediction& p);

// Overall: "fail" if any SLO is predicted to fail or a guard refuses, else
// "unknown" if any is unknown, else "pass".
std::string overall(const Prediction& p);

}  // namespace faultline::plan
