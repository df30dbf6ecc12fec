// What a run does for spec.dr before it touches anything: connect to each
// named cluster (a context of the run's kubeconfig) and check that Velero is
// there and the named backups exist.
#pragma once

#include <vector>

#include "runner/dr/dr_spec.h"
#include "runner/dr/drill.h"
#include "runner/kube/config.h"

namespace faultline::dr {

// InputError "file:line:col: spec.dr.clusters.NAME.context: ..." (exit 2)
// when a context is not in the kubeconfig.
std::vector<Cluster> connect_clusters(const DrSpec& spec, const kube::LoadOptions& base);

// DrInputError (exit 4: the cluster cannot serve the drill) when Velero is
// missing in a cluster; InputError "file:line:col: ..." (exit 2) when a
// backup the spec names does not exist. Read-only.
void check_before_touching(kube::Client& home, const std::vector<Cluster>& clusters,
                           const DrSpec& spec);

}  // namespace faultline::dr
