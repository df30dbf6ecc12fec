#include "tests/e2e/cluster_env.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "runner/kube/config.h"
#include "tests/test_paths.h"

namespace faultline::testing {

std::string cluster_state_dir() {
  if (const char* s = std::getenv("FAULTLINE_CLUSTER_STATE"); s && *s) return s;
  return faultline::test_paths::cluster_state();
}

std::string kubeconfig_path() { return cluster_state_dir() + "/kubeconfig"; }
std::string kubectl_path() { return cluster_state_dir() + "/bin/kubectl"; }
std::string cluster_script(const std::string& name) {
  return std::string(faultline::test_paths::source_dir()) + "/tests/cluster/" + name;
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

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>

#include "runner/chaos/cluster_view.h"
#include "runner/chaos/journal.h"

namespace faultline::testing {

using json = nlohmann::json;
namespace res = kube::resources;

std::string source_dir() {
  if (const char* s = std::getenv("FAULTLINE_SOURCE_DIR"); s && *s) return s;
  return faultline::test_paths::source_dir();
}

std::string faultline_binary() {
  if (const char* s = std::getenv("FAULTLINE_BINARY"); s && *s) return s;
  return faultline::test_paths::faultline_binary();
}

int faultline(const std::string& args, std::string* output) {
  return run(
      faultline_binary() + " " + args + " --kubeconfig " + kubeconfig_path() + " --no-progress",
      output);
}

std::map<std::string, int> ready_pods_per_zone() {
  auto client = cluster_client();
  chaos::ClusterView view(client);
  kube::ListOptions list;
  list.label_selector = "app=checkout";
  std::map<std::string, int> out;
  for (const auto& p : chaos::items(client.list(res::kPods, "shop", list)))
    if (chaos::pod_ready(p)) ++out[view.zone_of_node(chaos::pod_node(p))];
  return out;
}

void deploy_demo() {
  kubectl("apply -k " + source_dir() + "/manifests/demo");
  auto state = [] {
    auto per_zone = ready_pods_per_zone();
    int total = 0;
    for (auto& [z, n] : per_zone) total += n;
    bool balanced =
        total == 6 && per_zone["zone-a"] == 2 && per_zone["zone-b"] == 2 && per_zone["zone-c"] == 2;
    return std::pair{total, balanced};
  };
  for (int attempt = 0; attempt < 3; ++attempt) {
    // Wait while pods are still coming up; all 6 Ready but bunched (what a
    // zone outage leaves: Kubernetes never moves pods back) needs no wait.
    for (int i = 0; i < 120 && state().first < 6; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    if (state().second) return;
    kubectl("delete pods -n shop -l app=checkout --wait=false");
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  FAIL() << "demo app not 6 Ready pods spread 2 per zone: " << kubectl("get pods -n shop -o wide");
}

namespace {

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The demo's Ready pods that are not terminating.
struct DemoPods {
  int ready = 0;
  int ready_off_real = 0;
  std::map<std::string, int> ready_per_node;
};

DemoPods demo_pods() {
  DemoPods d;
  auto out = kubectl(
      "get pods -n shop -l app=checkout -o jsonpath='{range .items[*]}{.spec.nodeName} "
      "{.status.conditions[?(@.type==\"Ready\")].status} "
      "{.metadata.deletionTimestamp}{\"\\n\"}{end}'");
  auto real = real_nodes();
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    auto w = words(line);
    // "<node> <True|False> [<deletionTimestamp>]": terminating pods have three words.
    if (w.size() != 2 || w[1] != "True") continue;
    ++d.ready;
    ++d.ready_per_node[w[0]];
    if (std::find(real.begin(), real.end(), w[0]) == real.end()) ++d.ready_off_real;
  }
  return d;
}

}  // namespace

std::vector<std::string> real_nodes() {
  return words(
      kubectl("get nodes -l faultline.io/node-kind=real -o jsonpath='{.items[*].metadata.name}'"));
}

void deploy_real_demo() {
  kubectl("apply -k " + source_dir() + "/manifests/demo/real-nodes");
  auto balanced = [] {
    auto d = demo_pods();
    if (d.ready != 6 || d.ready_off_real != 0) return false;
    for (const auto& [node, n] : d.ready_per_node)
      if (n != 2) return false;
    return d.ready_per_node.size() == 3;
  };
  for (int attempt = 0; attempt < 3; ++attempt) {
    for (int i = 0; i < 240 && demo_pods().ready < 6; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    if (balanced()) {
      // kube-proxy programs the endpoints a moment after they turn Ready.
      std::this_thread::sleep_for(std::chrono::seconds(2));
      return;
    }
    kubectl("delete pods -n shop -l app=checkout --wait=false");
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  FAIL() << "demo app not 6 Ready pods, 2 per real node: " << kubectl("get pods -n shop -o wide");
}

void expect_cluster_clean() {
  auto client = cluster_client();
  for (const auto& n : chaos::items(client.list(res::kNodes, ""))) {
    std::string name = n["metadata"].value("name", "");
    EXPECT_FALSE(n["spec"].value("unschedulable", false)) << "node " << name << " left cordoned";
    for (const auto& t : n["spec"].value("taints", json::array()))
      EXPECT_NE(t.value("key", ""), chaos::kFailureTaintKey) << "node " << name << " left tainted";
    const auto& ann = n["metadata"].value("annotations", json::object());
    EXPECT_FALSE(ann.contains(chaos::kCordonedAnnotation))
        << "node " << name << " keeps " << chaos::kCordonedAnnotation;
    EXPECT_FALSE(ann.contains(chaos::kTaintedAnnotation))
        << "node " << name << " keeps " << chaos::kTaintedAnnotation;
  }
  kube::ListOptions journals;
  journals.label_selector = std::string(chaos::kJournalLabel) + "=true";
  try {
    EXPECT_EQ(chaos::items(client.list(res::kConfigMaps, "faultline", journals)).size(), 0u)
        << "journal left behind";
  } catch (const kube::ApiError& e) {
    EXPECT_EQ(e.kind(), kube::ApiError::Kind::NotFound) << e.what();
  }
  try {
    client.get(res::kLeases, "faultline", "faultline-lock");
    ADD_FAILURE() << "the drill lock Lease was left behind";
  } catch (const kube::ApiError& e) {
    EXPECT_EQ(e.kind(), kube::ApiError::Kind::NotFound) << e.what();
  }
}

}  // namespace faultline::testing
