// The experiment spec (faultline.io/v1alpha1 Experiment), parsed strictly:
// every error is "file:line:col: what was expected", exit 2, nothing touched.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "runner/chaos/guards.h"
#include "runner/common/duration.h"
#include "runner/dr/dr_spec.h"
#include "runner/experiment/params_schema.h"
#include "runner/observe/probe_spec.h"
#include "runner/slo/slo_spec.h"

namespace faultline::experiment {

struct Timing {
  Seconds warmup{5};      // steady state must hold this long before any fault
  Seconds recovery{120};  // after the script: observe until recovered, at most this long
  Seconds cooldown{2};    // then a little more, so the timeline shows the steady end
};

struct Experiment {
  std::string file;    // as given
  std::string name;    // metadata.name
  std::string script;  // file name under the scripts directory
  nlohmann::json params = nlohmann::json::object();
  ParamsSchema params_schema;  // spec.params_schema
  std::map<std::string, observe::SpecLocation>
      param_values;  // where each param's value was written
  slo::Target target;
  std::vector<observe::ProbeSpec> probes;
  std::vector<slo::SloSpec> slos;
  std::vector<slo::AbortSpec> aborts;
  chaos::Guards guards;
  Timing timing;
  std::optional<dr::DrSpec> dr;  // spec.dr: a restore drill (runner/dr)
};

Experiment parse_experiment_file(const std::string& path);
Experiment parse_experiment_text(const std::string& file, const std::string& text);

// "key=value" overrides from the command line (--param zone=zone-b), checked
// against spec.params_schema.
void apply_param_override(Experiment& experiment, const std::string& assignment);

}  // namespace faultline::experiment
