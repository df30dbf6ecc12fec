#include "tests/e2e/cluster_env.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "runner/kube/config.h"

namespace faultline::testing {

std::string cluster_state_dir() {
  if (const char* s = std::getenv("FAULTLINE_CLUSTER_STATE"); s && *s) return s;
  return std::string(FAULTLINE_SOURCE_DIR) + "/tests/cluster/.state/default";
}

std::string kubeconfig_path() { return cluster_state_dir() + "/kubeconfig"; }
std::string kubectl_path() { return cluster_state_dir() + "/bin/kubectl"; }
std::string cluster_script(const std::string& name) {
  return std::string(FAULTLINE_SOURCE_DIR) + "/tests/cluster/" + name;
}

kube::Client cluster_client() {
  if (!std::filesystem::exists(kubeconfig_path()))
    throw std::runtime_error("no local cluster: " + kubeconfig_path() +
                             " is missing (did the cluster_up fixture fail?)");
  kube::LoadOptions options;
  options.kubeconfig = kubeconfig_path();
  options.allow_in_cluster = false;
  return kube::Client(kube::load_config(options));
}

int run(const std::string& command, std::string* output) {
  std::string full = command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  std::array<char, 4096> buf{};
  std::string out;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  int status = pclose(pipe);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string kubectl(const std::string& args) {
  std::string out;
  std::string cmd = kubectl_path() + " --kubeconfig " + kubeconfig_path() + " " + args;
  if (run(cmd, &out) != 0) throw std::runtime_error("kubectl " + args + " failed: " + out);
  return out;
}

}  // namespace faultline::testing
