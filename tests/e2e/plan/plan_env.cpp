#include "tests/e2e/plan/plan_env.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "runner/chaos/cluster_view.h"
#include "tests/e2e/cluster_env.h"

namespace faultline::testing {

using namespace std::chrono_literals;
namespace res = kube::resources;

void apply(const std::string& yaml) {
  static int n = 0;
  std::string path =
      "/tmp/faultline-plan-e2e-" + std::to_string(getpid()) + "-" + std::to_string(++n) + ".yaml";
  std::ofstream(path) << yaml;
  kubectl("apply -f " + path);
  std::remove(path.c_str());
}

void fresh_plan_namespace() {
  apply("apiVersion: v1\nkind: Namespace\nmetadata: { name: plan-e2e }\n");
  kubectl("delete deployments,statefulsets,services,pdb,pvc --all -n plan-e2e --wait=true");
  kubectl("delete pv -l plan-e2e=true --wait=true");
  auto client = cluster_client();
  bool empty =
      eventually([&] { return chaos::items(client.list(res::kPods, kPlanNs)).empty(); }, 60s);
  ASSERT_TRUE(empty) << kubectl("get pods -n plan-e2e -o wide");
}

void wait_ready(const std::string& app, int n) {
  auto client = cluster_client();
  kube::ListOptions o;
  o.label_selector = "app=" + app;
  int ready = 0;
  bool ok = eventually(
      [&] {
        ready = 0;
        for (const auto& p : chaos::items(client.list(res::kPods, kPlanNs, o)))
          if (chaos::pod_ready(p) && !chaos::pod_terminating(p)) ++ready;
        return ready == n;
      },
      60s);
  ASSERT_TRUE(ok) << ready << "/" << n << " Ready:\n"
                  << kubectl("get pods -n plan-e2e -o wide -l app=" + app);
}

std::string plan_experiment(Scratch& scratch, const std::string& app, const std::string& script,
                            const std::string& params, const std::vector<std::string>& slos,
                            const std::string& timing) {
  std::string y = "apiVersion: faultline.io/v1alpha1\nkind: Experiment\nmetadata:\n  name: plan-" +
                  app + "\nspec:\n  script: " + script + "\n  params: " + params +
                  "\n  target: { namespace: plan-e2e, selector: app=" + app + ", service: " + app +
                  " }\n  probes:\n    - { name: endpoints, endpoints: { service: " + app +
                  " } }\n    - { name: pods, pods: {} }\n  slos:\n";
  for (const auto& s : slos) y += "    - " + s + "\n";
  y += "  guards: { max_zones: 1, namespaces: [plan-e2e, shop] }\n  timing: " + timing + "\n";
  return scratch.experiment(app, y);
}

json plan_json(const std::string& file, int* exit_code, const std::string& kubeconfig) {
  std::string out;
  int code = run(faultline_binary() + " plan " + file + " --output json --kubeconfig " +
                     (kubeconfig.empty() ? kubeconfig_path() : kubeconfig) + " 2>/dev/null",
                 &out);
  if (exit_code) *exit_code = code;
  try {
    return json::parse(out.substr(std::min(out.find('{'), out.size())));
  } catch (const json::parse_error& e) {
    ADD_FAILURE() << "plan did not print JSON (exit " << code << "): " << e.what() << "\n" << out;
    return nullptr;
  }
}

std::vector<std::string> pending_reasons(const std::string& app) {
  auto client = cluster_client();
  kube::ListOptions o;
  o.label_selector = "app=" + app;
  std::vector<std::string> out;
  for (const auto& p : chaos::items(client.list(res::kPods, kPlanNs, o))) {
    if (chaos::pod_terminating(p) || !chaos::pod_node(p).empty()) continue;
    std::string msg;
    for (const auto& c : p.value("status", json::object()).value("conditions", json::array()))
      if (c.value("type", "") == "PodScheduled" && c.value("reason", "") == "Unschedulable")
        msg = c.value("message", "");
    if (msg.empty()) continue;  // not yet tried by the scheduler
    // The FitError sentence ends at the first ". "; what follows
    // ("no new claims to deallocate, preemption: ...") is other plugins'.
    auto cut = msg.find(". ");
    out.push_back(cut == std::string::npos ? msg : msg.substr(0, cut + 1));
  }
  return out;
}

json predicted_slo(const json& plan, const std::string& name) {
  if (!plan.is_object()) return nullptr;
  for (const auto& s : plan.value("slos", json::array()))
    if (s.value("name", "") == name) return s;
  return nullptr;
}

}  // namespace faultline::testing
