// Which faults an experiment's script makes. The plan cannot run the script
// (that would touch the cluster), so it reads the chaos.* calls from its
// source, in order, and fills their arguments from spec.params the way the
// stdlib scripts do (zone: params.zone, else the zone holding most target
// pods — faults.pick_zone; count: params.count or 2; pdb: params.pdb or the
// target service; by: params.by or 1). A call it cannot model is a note, and
// the verdicts then say "unknown" rather than guess.
#pragma once

#include <string>
#include <vector>

#include "runner/plan/model.h"
#include "runner/plan/simulate.h"

namespace faultline::plan {

struct ScriptFaults {
  std::vector<Fault> faults;
  std::vector<std::string> notes;  // what was not modelled, and why
};

// `zone_for_default`: the zone faults.pick_zone would choose (most target pods).
ScriptFaults script_faults(const std::string& source, const json& params,
                           const std::string& zone_for_default, const std::string& target_service);

// faults.pick_zone: the zone holding most target pods (first in order on ties).
std::string busiest_zone(const Snapshot& snapshot, const Scenario& scenario);

}  // namespace faultline::plan
