// Where the e2e tests find the local control plane that tests/cluster/up.sh
// started (the ctest fixture `cluster`), and small helpers to drive it.
#pragma once

#include <string>

#include "runner/kube/client.h"

namespace faultline::testing {

// $FAULTLINE_CLUSTER_STATE (set by ctest), else tests/cluster/.state/default.
std::string cluster_state_dir();
std::string kubeconfig_path();          // <state>/kubeconfig
std::string kubectl_path();             // <state>/bin/kubectl (same release as the cluster)
std::string cluster_script(const std::string& name);  // tests/cluster/<name>
kube::Client cluster_client();          // admin client from the kubeconfig; fails the test if absent

// Runs a shell command; returns its exit status, stdout+stderr in *output.
int run(const std::string& command, std::string* output = nullptr);
// kubectl against the test cluster; throws with the output when it fails.
std::string kubectl(const std::string& args);

}  // namespace faultline::testing
