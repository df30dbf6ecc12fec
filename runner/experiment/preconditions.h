// What the drill needs to exist before it may start, checked read-only before
// the lock, the journal or any fault (DESIGN "preflight"): a target selector
// that matches nothing, a Service without endpoints, a PDB or zone that is not
// there — a drill against those would prove nothing and, worse, still cordon
// a zone. Nothing here writes to the cluster.
#pragma once

#include <string>
#include <vector>

#include "runner/experiment/spec.h"
#include "runner/kube/client.h"

namespace faultline::experiment {

// Throws InputError (exit 2) when the input names what this cluster cannot
// have (a zone without nodes, a selector the API server rejects). Returns the
// reasons the steady state cannot hold (exit 1), empty when the drill may
// start. kube::ApiError for anything else the API server answers.
std::vector<std::string> check_preconditions(kube::Client& client, const Experiment& experiment);

}  // namespace faultline::experiment
