// What the real-node tests read from the cluster.
#pragma once

#include <string>

namespace faultline::testing {

// The Service's clusterIP (shop/checkout).
std::string demo_cluster_ip();
// A duration flag of the running kube-controller-manager (from its command
// line, as up.sh started it), in seconds; -1 when absent.
double controller_manager_seconds(const std::string& flag);

}  // namespace faultline::testing
