#include "tests/e2e/dr/dr_env.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "runner/kube/config.h"
#include "tests/e2e/cluster_env.h"
#include "tests/test_paths.h"

namespace faultline::testing {

std::string dr_state_dir() {
  if (const char* s = std::getenv("FAULTLINE_DR_STATE"); s && *s) return s;
  return faultline::test_paths::dr_state();
}

std::string dr_kubeconfig() { return dr_state_dir() + "/kubeconfig"; }

kube::Client region_client(const std::string& r) {
  kube::LoadOptions options;
  options.kubeconfig = dr_state_dir() + "/" + r + "/kubeconfig";
  options.allow_in_cluster = false;
  return kube::Client(kube::load_config(options));
}

std::string kubectl_in(const std::string& r, const std::string& args,
                       const std::string& stdin_text) {
  const std::string dir = dr_state_dir() + "/" + r;
  std::string cmd = dir + "/bin/kubectl --kubeconfig " + dir + "/kubeconfig " + args;
  std::string input;
  if (!stdin_text.empty()) {
    input = dir + "/stdin.yaml";
    std::ofstream(input) << stdin_text;
    cmd += " -f " + input;
  }
  std::string out;
  const int rc = run(cmd, &out);
  if (!input.empty()) std::remove(input.c_str());
  if (rc != 0) throw std::runtime_error("kubectl " + args + " (region " + r + ") failed: " + out);
  return out;
}

void deploy_app(const std::string& ns, const std::string& secret_value) {
  kubectl_in("a", "apply",
             R"(apiVersion: v1
kind: Namespace
metadata: { name: )" +
                 ns + R"( }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: )" +
                 ns + R"( }
data: { mode: "primary", limit: "42" }
---
apiVersion: v1
kind: Secret
metadata: { name: db, namespace: )" +
                 ns + R"( }
stringData: { password: ")" +
                 secret_value + R"(" }
---
apiVersion: v1
kind: Service
metadata: { name: api, namespace: )" +
                 ns + R"( }
spec: { selector: { app: api }, ports: [ { port: 80, targetPort: 8080 } ] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: )" +
                 ns + R"( }
spec:
  replicas: 2
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
      - name: api
        image: registry.invalid/api:1
        env: [ { name: MODE, valueFrom: { configMapKeyRef: { name: settings, key: mode } } } ]
)");
  kubectl_in("a", "rollout status deployment/api -n " + ns + " --timeout=60s");
}

void expect_regions_clean(const std::vector<std::string>& namespaces) {
  for (const char* r : {"a", "b"}) {
    for (const std::string& ns : namespaces) {
      std::string out;
      for (int i = 0; i < 300; ++i) {
        out = kubectl_in(r, "get namespace " + ns + " --ignore-not-found -o name");
        if (out.empty()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      EXPECT_EQ(out, "") << "namespace " << ns << " left in region " << r;
    }
    std::string left;
    for (int i = 0; i < 300; ++i) {
      left = kubectl_in(r,
                        "get backups.velero.io,restores.velero.io -n velero "
                        "-l app.kubernetes.io/managed-by=faultline -o name");
      if (left.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(left, "") << "Velero objects left in region " << r;
  }
}

int spawn(const std::string& command, const std::string& log_file) {
  const std::string line = "exec " + command + " >" + log_file + " 2>&1";
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

int reap(int pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace faultline::testing
