// Cordons every node of one zone and rolls the cordon back with faultline's
// own code path (chaos::Chaos::cordon_zone + rollback, journal writes
// included) and with `kubectl cordon/uncordon -l`, on the same cluster in the
// same run, and prints both times, their ratio and the API requests each
// made per node.
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
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "runner/chaos/chaos.h"
#include "runner/chaos/journal.h"
#include "runner/common/log.h"
#include "runner/common/parallel.h"
#include "runner/kube/client.h"
#include "runner/kube/transport.h"
#include "tests/test_paths.h"

namespace kube = faultline::kube;
namespace chaos = faultline::chaos;
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

// What one side sent, by kind of request.
struct Requests {
  size_t lists = 0, gets = 0, patches = 0, journal = 0, discovery = 0, other = 0;
  size_t total() const { return lists + gets + patches + journal + discovery + other; }
};

// "1,234": the figures are read at a glance.
std::string grouped(size_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string describe(const std::string& who, const Requests& r, int nodes) {
  char per[32];
  std::snprintf(per, sizeof per, "%.2f", static_cast<double>(r.total()) / nodes);
  std::string s = who + ": " + grouped(r.total()) + " requests (" + per +
                  "/node: " + grouped(r.lists) + " lists, " + grouped(r.gets) + " gets, " +
                  grouped(r.patches) + " patches, " + grouped(r.journal) + " journal writes";
  if (r.discovery) s += ", " + grouped(r.discovery) + " discovery";
  if (r.other) s += ", " + grouped(r.other) + " other";
  return s + ")";
}

// Sorts one request into Requests. Node GETs with a name are gets, without
// one lists; anything on configmaps is the journal (the bench touches no
// other configmap); outside /api/v1/ (/api, /apis, /openapi) is discovery.
void classify(Requests& r, const std::string& method, const std::string& path) {
  std::string bare = path.substr(0, path.find('?'));
  if (bare.rfind("/api/v1/", 0) != 0) {
    ++r.discovery;
  } else if (bare.find("/configmaps") != std::string::npos) {
    ++r.journal;
  } else if (method == "PATCH") {
    ++r.patches;
  } else if (method == "GET" && bare == "/api/v1/nodes") {
    ++r.lists;
  } else if (method == "GET") {
    ++r.gets;
  } else {
    ++r.other;
  }
}

// Counts what the client really sends (retries included) by wrapping its
// transport: the figures are HTTP requests, not client calls.
class CountingTransport : public kube::HttpTransport {
 public:
  explicit CountingTransport(std::shared_ptr<kube::HttpTransport> inner)
      : inner_(std::move(inner)) {}
  kube::HttpResponse send(const kube::HttpRequest& request) override {
    note(request);
    return inner_->send(request);
  }
  kube::HttpResponse stream(const kube::HttpRequest& request,
                            const std::function<void(std::string_view)>& on_data,
                            std::stop_token stop) override {
    note(request);
    return inner_->stream(request, on_data, stop);
  }
  Requests counts() const {
    std::lock_guard lock(mutex_);
    return counts_;
  }

 private:
  void note(const kube::HttpRequest& request) {
    std::lock_guard lock(mutex_);
    classify(counts_, request.method, request.path);
  }
  std::shared_ptr<kube::HttpTransport> inner_;
  mutable std::mutex mutex_;
  Requests counts_;
};

kube::ClientConfig bench_config() {
  kube::LoadOptions o;
  o.kubeconfig = kubeconfig_path();
  o.allow_in_cluster = false;
  auto config = kube::load_config(o);
  if (overrides.concurrency > 0) config.max_concurrency = overrides.concurrency;
  if (overrides.qps >= 0) config.qps = overrides.qps;
  if (overrides.burst > 0) config.burst = overrides.burst;
  return config;
}

kube::Client client() { return kube::Client(bench_config()); }

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

// faultline's state namespace for the bench's journals: its own, deleted at
// the end, so a real run's journals are never touched.
const std::string kStateNamespace = "faultline-bench-cordon";

// One round of faultline's real path, what `cordon_zone` in a script and the
// run's end cost a user: a fresh client (config, connections, TLS), the
// journal's head ConfigMap, Chaos::cordon_zone (guards, journal intents,
// the fan-out, the journal's outcome), Chaos::rollback and the journal's
// deletion. Returns the seconds and the requests sent.
double faultline_round(int round, int nodes, Requests* sent, size_t* limited) {
  auto config = bench_config();
  auto transport = std::make_shared<CountingTransport>(kube::make_curl_transport(config));
  auto t0 = Clock::now();
  kube::Client c(config, transport);
  std::string run = "bench-cordon-" + std::to_string(round);
  chaos::Journal journal(c, kStateNamespace, run, {{"bench", "cordon"}});
  journal.open();
  chaos::ChaosOptions options;
  options.run_id = run;
  // The bench's zone is nearly every node of the cluster: the guard that
  // stops a drill from cordoning half of a real one would refuse it.
  options.guards.max_node_fraction = 1.0;
  options.concurrency = static_cast<size_t>(config.max_concurrency);
  chaos::Chaos ch(c, journal, options);
  auto done = ch.cordon_zone(kZone);
  if (done.value("nodes", 0) != nodes)
    throw std::runtime_error("cordon_zone cordoned " + done.dump() + ", expected " +
                             std::to_string(nodes) + " nodes");
  // Rollback goes through client.urgent(): it skips the rate limiter, so
  // only what came before it is bound by qps/burst.
  *limited = transport->counts().total();
  auto outcome = ch.rollback(std::chrono::seconds(600));
  if (!outcome.complete) throw std::runtime_error("rollback incomplete: " + outcome.remaining[0]);
  journal.close();
  double s = seconds_since(t0);
  *sent = transport->counts();
  return s;
}

// kubectl at -v=6 logs one line per request, structured since 1.3x:
// `round_trippers.go:632] "Response" verb="PATCH"
// url="https://127.0.0.1:PORT/api/v1/nodes/NAME" status="200 OK"
// milliseconds=3`; older ones `] PATCH https://.../api/v1/nodes/NAME 200 OK`.
void count_kubectl(const std::string& log, Requests* sent) {
  static const std::regex structured(R"re(verb="([A-Z]+)" url="https?://[^/"]+(/[^"]*)")re");
  static const std::regex plain(R"re(\] (GET|POST|PUT|PATCH|DELETE) https?://[^/ ]+(/[^ ]*) )re");
  std::istringstream in(log);
  std::string l;
  std::smatch m;
  while (std::getline(in, l))
    if (std::regex_search(l, m, structured) || std::regex_search(l, m, plain))
      classify(*sent, m[1], m[2]);
}

void kubectl_or_throw(const std::string& args, Requests* sent = nullptr) {
  std::string out;
  std::string cmd = kubectl_path() + " --kubeconfig " + kubeconfig_path() + " " + args;
  if (sent) cmd += " -v=6";
  if (run(cmd, &out) != 0) throw std::runtime_error("kubectl " + args + " failed: " + out);
  if (sent) count_kubectl(out, sent);
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

    chaos::ensure_namespace(c, kStateNamespace);  // a user's exists before the run

    std::vector<double> ours, theirs;
    Requests our_sent, their_sent;
    size_t our_limited = 0;
    for (int r = 0; r < rounds; ++r) {
      Requests mine;
      size_t limited = 0;
      ours.push_back(faultline_round(r + 1, nodes, &mine, &limited));
      if (count_cordoned(c) != 0) throw std::runtime_error("our rollback left nodes cordoned");

      Requests theirs_now;
      auto t0 = Clock::now();
      kubectl_or_throw("cordon -l " + kSelector, &theirs_now);
      kubectl_or_throw("uncordon -l " + kSelector, &theirs_now);
      theirs.push_back(seconds_since(t0));
      if (count_cordoned(c) != 0) throw std::runtime_error("kubectl left nodes cordoned");
      std::printf("round %d: faultline %.3fs  kubectl %.3fs\n  %s\n  %s\n", r + 1, ours.back(),
                  theirs.back(), describe("faultline", mine, nodes).c_str(),
                  describe("kubectl  ", theirs_now, nodes).c_str());
      std::fflush(stdout);
      if (r == 0) our_sent = mine, their_sent = theirs_now, our_limited = limited;
    }
    std::sort(ours.begin(), ours.end());
    std::sort(theirs.begin(), theirs.end());
    double a = ours[ours.size() / 2], b = theirs[theirs.size() / 2];
    const auto& cfg = c.config();
    // The client's token bucket alone: burst requests at once, the rest at
    // qps. No fan-out, however wide, is faster than this.
    double bound =
        cfg.qps > 0 ? std::max(0.0, static_cast<double>(our_limited) - cfg.burst) / cfg.qps : 0.0;
    std::printf(
        "bench_cordon: %d nodes, cordon zone + rollback, median of %d rounds\n"
        "  faultline Chaos (max_concurrency %d, qps %.0f, burst %d): %.3fs\n"
        "  kubectl cordon/uncordon -l (-v=6):                      %.3fs\n"
        "  ratio faultline/kubectl: %.3f (target <= 0.05)\n"
        "  physical bound (qps/burst): %s rate-limited requests (cordon; rollback is not) at qps "
        "%.0f, burst %d >= %.2fs (%.3f of "
        "kubectl's time)\n"
        "  %s\n  %s\n",
        nodes, rounds, cfg.max_concurrency, cfg.qps, cfg.burst, a, b, a / b,
        grouped(our_limited).c_str(), cfg.qps, cfg.burst, bound, bound / b,
        describe("faultline", our_sent, nodes).c_str(),
        describe("kubectl  ", their_sent, nodes).c_str());
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
  try {
    c.remove(kube::resources::kNamespaces, "", kStateNamespace);
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ApiError::Kind::NotFound) {
      std::fprintf(stderr, "bench_cordon: deleting namespace %s: %s\n", kStateNamespace.c_str(),
                   e.what());
      status = 1;
    }
  }
  std::printf("bench_cordon: deleted %d nodes%s\n", nodes, status ? " (with errors)" : "");
  return status;
}
