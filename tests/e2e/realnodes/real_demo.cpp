#include "tests/e2e/realnodes/real_demo.h"

#include <fstream>

#include "runner/common/duration.h"
#include "tests/e2e/cluster_env.h"

namespace faultline::testing {

std::string demo_cluster_ip() {
  return kubectl("get service checkout -n shop -o jsonpath='{.spec.clusterIP}'");
}

double controller_manager_seconds(const std::string& flag) {
  std::ifstream pids(cluster_state_dir() + "/pids");
  std::string role, pid, found;
  while (pids >> role >> pid)
    if (role == "kube-controller-manager") found = pid;
  std::ifstream cmdline("/proc/" + found + "/cmdline");
  std::string arg;
  while (std::getline(cmdline, arg, '\0'))
    if (arg.rfind(flag + "=", 0) == 0)
      if (auto d = parse_duration(arg.substr(flag.size() + 1))) return d->count();
  return -1;
}

}  // namespace faultline::testing
