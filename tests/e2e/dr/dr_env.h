// The two regions of tests/cluster/velero/dr-up.sh for the DR e2e tests:
// clients, kubectl, a small app with data to restore, and the check that a
// drill left nothing behind.
#pragma once

#include <string>

#include "runner/kube/client.h"

namespace faultline::testing {

std::string dr_state_dir();                        // $FAULTLINE_DR_STATE or the build's
std::string dr_kubeconfig();                       // both regions as contexts region-a, region-b
kube::Client region_client(const std::string& r);  // "a" or "b"
// kubectl against region r; throws with the output when it fails.
std::string kubectl_in(const std::string& r, const std::string& args,
                       const std::string& stdin_text = "");
// Namespace `ns` in region a: Deployment "api" (2 replicas, Ready on kwok
// nodes), Service "api", ConfigMap "settings", Secret "db" (password
// `secret_value`). Waits until the Deployment is Ready.
void deploy_app(const std::string& ns, const std::string& secret_value);
// No namespace of `namespaces`, no Backup or Restore made by faultline, in
// either region (gtest expectations; waits up to 30 s for Velero's sync).
void expect_regions_clean(const std::vector<std::string>& namespaces);
// `command` (a shell command line) as a child process whose pid is the
// command's own (exec), its output to `log_file`; the caller signals and
// reaps it (reap).
int spawn(const std::string& command, const std::string& log_file);
// waitpid: the exit code, or 128 + the signal that killed it.
int reap(int pid);

}  // namespace faultline::testing
