// Cordons and uncordons every node of one zone with faultline's client
// (bounded parallel fan-out) and with `kubectl cordon/uncordon -l`, on the
// same cluster in the same run, and prints both times and their ratio.
//
// usage: bench_cordon [--nodes N] [--rounds R] [--concurrency C] [--qps Q --burst B]
//   (the defaults are ClientConfig's: what a user gets)
//   FAULTLINE_CLUSTER_STATE names the cluster (tests/cluster/up.sh --state).
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "runner/common/parallel.h"
#include "runner/kube/client.h"
#include "tests/test_paths.h"

namespace kube = faultline::kube;
using Clock = std::chrono::steady_clock;

namespace {

// The cluster tests/cluster/up.sh started (as tests/e2e/cluster_env.h finds it).
std::string state_dir() {
  if (const char* s = std::getenv("FAULTLINE_CLUSTER_STATE"); s && *s) return s;
  return std::string(faultline::test_paths::source_dir()) + "/tests/cluster/.state/default";
}
std::string kubeconfig_path() { return state_dir() + "/kubeconfig"; }
std::string kubectl_path() { return state_dir() + "/bin/kubectl"; }

// Runs a command quietly; its exit status, and its output in *out.
int run(const std::string& command, std::string* out) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out->append(buf, n);
  int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

const std::string kZone = "bench-zone";
const std::string kSelector = "topology.kubernetes.io/zone=" + kZone;

kube::json node(const std::string& name) {
  return {
      {"apiVersion", "v1"},
      {"kind", "Node"},
      {"metadata",
       {{"name", name},
        {"labels",
         {{"topology.kubernetes.io/zone", kZone},
          {"kubernetes.io/hostname", name},
          {"kubernetes.io/os", "linux"},
          {"type", "kwok"}}},
        // Managed by the cluster's "rest" kwok (nodes outside the zones).
        {"annotations", {{"kwok.x-k8s.io/node", "fake"}, {"node.alpha.kubernetes.io/ttl", "0"}}}}},
      {"status",
       {{"allocatable", {{"cpu", "8"}, {"memory", "32Gi"}, {"pods", "110"}}},
        {"capacity", {{"cpu", "8"}, {"memory", "32Gi"}, {"pods", "110"}}}}}};
}

struct Overrides {
  int concurrency = 0, burst = 0;
  double qps = -1;
} overrides;

kube::Client client() {
  kube::LoadOptions o;
  o.kubeconfig = kubeconfig_path();
  o.allow_in_cluster = false;
  auto config = kube::load_config(o);
  if (overrides.concurrency > 0) config.max_concurrency = overrides.concurrency;
  if (overrides.qps >= 0) config.qps = overrides.qps;
  if (overrides.burst > 0) config.burst = overrides.burst;
  return kube::Client(config);
}

void check(const std::vector<std::exception_ptr>& errors, const char* what) {
  for (const auto& e : errors)
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        throw std::runtime_error(std::string(what) + ": " + x.what());
      }
    }
}

std::vector<std::string> names_in_zone(kube::Client& c) {
  kube::ListOptions o;
  o.label_selector = kSelector;
  auto list = c.list(kube::resources::kNodes, "", o);
  std::vector<std::string> names;
  for (const auto& n : list["items"]) names.push_back(n["metadata"]["name"]);
  return names;
}

// What `kubectl cordon -l` does, with a bounded parallel fan-out: list the
// zone's nodes, patch spec.unschedulable on those not already in the state.
void set_unschedulable(kube::Client& c, bool cordon) {
  kube::ListOptions o;
  o.label_selector = kSelector;
  auto list = c.list(kube::resources::kNodes, "", o);
  std::vector<std::string> todo;
  for (const auto& n : list["items"])
    if (n["spec"].value("unschedulable", false) != cordon) todo.push_back(n["metadata"]["name"]);
  kube::json patch = {
      {"spec", {{"unschedulable", cordon ? kube::json(true) : kube::json(nullptr)}}}};
  check(faultline::parallel_for_each<std::string>(
            todo, static_cast<size_t>(c.config().max_concurrency),
            [&](const std::string& name) { c.patch(kube::resources::kNodes, "", name, patch); }),
        cordon ? "cordon" : "uncordon");
}

size_t count_cordoned(kube::Client& c) {
  kube::ListOptions o;
  o.label_selector = kSelector;
  auto list = c.list(kube::resources::kNodes, "", o);
  size_t n = 0;
  for (const auto& node : list["items"]) n += node["spec"].value("unschedulable", false) ? 1 : 0;
  return n;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void kubectl_or_throw(const std::string& args) {
  std::string out;
  std::string cmd = kubectl_path() + " --kubeconfig " + kubeconfig_path() + " " + args;
  if (run(cmd, &out) != 0) throw std::runtime_error("kubectl " + args + " failed: " + out);
}

}  // namespace

int main(int argc, char** argv) {
  int nodes = 150, rounds = 3;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--nodes" && i + 1 < argc)
      nodes = std::atoi(argv[++i]);
    else if (a == "--rounds" && i + 1 < argc)
      rounds = std::atoi(argv[++i]);
    else if (a == "--concurrency" && i + 1 < argc)
      overrides.concurrency = std::atoi(argv[++i]);
    else if (a == "--qps" && i + 1 < argc)
      overrides.qps = std::atof(argv[++i]);
    else if (a == "--burst" && i + 1 < argc)
      overrides.burst = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr,
                   "usage: bench_cordon [--nodes N (>= 100)] [--rounds R] [--concurrency C] "
                   "[--qps Q] [--burst B]\n");
      return 2;
    }
  }
  if (nodes < 100 || rounds < 1) {
    std::fprintf(stderr, "bench_cordon: --nodes must be >= 100 and --rounds >= 1\n");
    return 2;
  }

  auto c = client();
  std::vector<std::string> names;
  for (int i = 1; i <= nodes; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "bench-node-%04d", i);
    names.push_back(name);
  }
  int status = 0;
  try {
    // Leftovers of an interrupted run go first.
    auto stale = names_in_zone(c);
    check(faultline::parallel_for_each<std::string>(
              stale, 32, [&](const std::string& n) { c.remove(kube::resources::kNodes, "", n); }),
          "delete stale nodes");
    std::printf("bench_cordon: creating %d nodes in zone %s\n", nodes, kZone.c_str());
    check(faultline::parallel_for_each<std::string>(
              names, 32,
              [&](const std::string& n) { c.create(kube::resources::kNodes, "", node(n)); }),
          "create nodes");
    // Warm kubectl's discovery cache so it is timed doing the work, not
    // its first-run discovery.
    kubectl_or_throw("get nodes -l " + kSelector + " -o name");

    std::vector<double> ours, theirs;
    for (int r = 0; r < rounds; ++r) {
      auto t0 = Clock::now();
      auto fresh = client();  // a cold process's work: config, connections, TLS
      set_unschedulable(fresh, true);
      set_unschedulable(fresh, false);
      ours.push_back(seconds_since(t0));
      if (count_cordoned(c) != 0) throw std::runtime_error("our uncordon left nodes cordoned");

      t0 = Clock::now();
      kubectl_or_throw("cordon -l " + kSelector);
      kubectl_or_throw("uncordon -l " + kSelector);
      theirs.push_back(seconds_since(t0));
      if (count_cordoned(c) != 0) throw std::runtime_error("kubectl left nodes cordoned");
      std::printf("round %d: faultline %.3fs  kubectl %.3fs\n", r + 1, ours.back(), theirs.back());
    }
    std::sort(ours.begin(), ours.end());
    std::sort(theirs.begin(), theirs.end());
    double a = ours[ours.size() / 2], b = theirs[theirs.size() / 2];
    std::printf(
        "bench_cordon: %d nodes, cordon + uncordon, median of %d rounds\n"
        "  faultline (max_concurrency %d, qps %.0f, burst %d): %.3fs\n"
        "  kubectl cordon/uncordon -l:                      %.3fs\n"
        "  ratio faultline/kubectl: %.3f (target <= 0.2)\n",
        nodes, rounds, c.config().max_concurrency, c.config().qps, c.config().burst, a, b, a / b);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_cordon: %s\n", e.what());
    status = 1;
  }
  // Always remove the nodes we made.
  auto errors = faultline::parallel_for_each<std::string>(names, 32, [&](const std::string& n) {
    try {
      c.remove(kube::resources::kNodes, "", n);
    } catch (const kube::ApiError& e) {
      if (e.kind() != kube::ApiError::Kind::NotFound) throw;
    }
  });
  for (const auto& e : errors)
    if (e) status = 1;
  std::printf("bench_cordon: deleted %d nodes%s\n", nodes, status ? " (with errors)" : "");
  return status;
}
