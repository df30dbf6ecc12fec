// One read of the cluster for the model: a list each of nodes, pods, PDBs,
// ReplicaSets (to name Deployments), PVs, PVCs and the target Service's
// EndpointSlices. Only get/list: plan never writes.
#pragma once

#include <string>

#include "runner/kube/client.h"
#include "runner/plan/model.h"

namespace faultline::plan {

// Throws InputError when the target namespace or Service does not exist.
Snapshot load_snapshot(kube::Client& client, const std::string& target_ns,
                       const std::string& service);

// The same from already-listed objects ({"nodes": [...], "pods": [...], ...}),
// for tests and for a snapshot saved to a file.
Snapshot snapshot_from_json(const json& lists);

}  // namespace faultline::plan
