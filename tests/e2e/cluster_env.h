// Where the e2e tests find the local control plane that tests/cluster/up.sh
// started (the ctest fixture `cluster`), and small helpers to drive it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "runner/kube/client.h"

namespace faultline::testing {

// $FAULTLINE_CLUSTER_STATE, else the build's cluster state dir (compiled in).
std::string cluster_state_dir();
std::string kubeconfig_path();  // <state>/kubeconfig
std::string kubectl_path();     // <state>/bin/kubectl (same release as the cluster)
std::string cluster_script(const std::string& name);  // tests/cluster/<name>
kube::Client cluster_client();  // admin client from the kubeconfig; fails the test if absent

// Runs a shell command; returns its exit status, stdout+stderr in *output.
int run(const std::string& command, std::string* output = nullptr);
// kubectl against the test cluster; throws with the output when it fails.
std::string kubectl(const std::string& args);

// The demo app (manifests/demo: shop/checkout, 6 replicas, PDB minAvailable 4)
// applied, all 6 pods Ready and spread 2 per zone (pods are recreated until
// they are, since a previous test may have left them bunched).
void deploy_demo();
// The cluster's real nodes (label faultline.io/node-kind=real; none when it
// was started with --real-nodes-per-zone 0).
std::vector<std::string> real_nodes();
// manifests/demo/real-nodes applied (the same app, run by the real nodes'
// kubelets): 6 pods Ready, 2 per real node, none elsewhere; pods a previous
// test left bunched are recreated.
void deploy_real_demo();
// Pods of shop/checkout per zone, Ready and not terminating.
std::map<std::string, int> ready_pods_per_zone();
// Asserts (gtest) that faultline left nothing behind: no node cordoned or
// tainted, no faultline annotation, no journal ConfigMap, no lock Lease.
void expect_cluster_clean();
// The faultline binary ($FAULTLINE_BINARY, else the one built alongside) and
// the source tree.
std::string faultline_binary();
std::string source_dir();
// Runs `faultline <args> --kubeconfig <test cluster>`; returns the exit code.
int faultline(const std::string& args, std::string* output = nullptr);

}  // namespace faultline::testing
