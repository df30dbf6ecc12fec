// faultline's zone drain against `kubectl drain -l zone=Z` on the same
// cluster in the same run, alternating, at several sizes (issue 14). Each run
// starts from a fresh fill (tests/e2e/scale/drain_fixture: `--pods` pods, a
// third of them in scale-a, a PDB with maxUnavailable 10%), so both tools
// drain the same zone from the same state. Prints per run the drain time,
// the minimum Ready pods seen by an independent watcher, the PDB floor
// (ceil(pods in zone / budget) x the replacements' measured median time to
// Ready) and, per size, the ratio of the medians. See README.md.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "runner/chaos/chaos.h"
#include "tests/bench/drain/cpu_by_process.h"
#include "tests/e2e/cluster_env.h"
#include "tests/e2e/scale/drain_fixture.h"

using namespace faultline;
using namespace faultline::bench;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Run {
  double seconds = 0, floor = 0;
  int min_ready = 0, evicted = 0;
  std::string cpu;  // what the machine's CPU went to during the drain
};

struct BenchOptions {
  // Where to write the API server's CPU profile of each drain (its first
  // `profile_seconds`), or empty: needs a cluster started with
  // FAULTLINE_APISERVER_PROFILING=1 (tests/cluster/up.sh).
  std::string profile_dir;
  int profile_seconds = 20;
  size_t concurrency = chaos::ChaosOptions().concurrency;  // faultline's evictions in flight
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty()      ? 0
         : v.size() % 2 ? v[v.size() / 2]
                        : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

Run drain_once(bool ours, const testing::ScaleCluster& size, const BenchOptions& bench, int round) {
  auto client = testing::cluster_client();
  testing::scale_up(client, size);
  testing::BudgetWatcher watcher(client);
  watcher.wait_synced();
  Run run;
  std::jthread profiler;  // joined on every path, a throwing drain included
  if (!bench.profile_dir.empty()) {
    std::string profile_path = bench.profile_dir + "/apiserver-" + std::to_string(size.pods) + "-" +
                               (ours ? "faultline" : "kubectl") + "-" + std::to_string(round) +
                               ".pprof";
    std::string command =
        testing::kubectl_path() + " --kubeconfig " + testing::kubeconfig_path() +
        " get --raw '/debug/pprof/profile?seconds=" + std::to_string(bench.profile_seconds) +
        "' > " + profile_path;
    profiler = std::jthread([command] { testing::run(command); });
  }
  CpuSample cpu_before = sample_cpu();
  auto t0 = Clock::now();
  // The drain is over: its time and CPU, before the tool's own clean-up.
  auto finished = [&] {
    run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    run.cpu = describe_cpu_between(cpu_before, sample_cpu());
    if (profiler.joinable()) profiler.join();
  };
  std::string selector = std::string("topology.kubernetes.io/zone=") + testing::kScaleZone;
  if (ours) {
    chaos::ensure_namespace(client, "faultline");
    chaos::Journal journal(client, "faultline", "bench-drain", json{{"experiment", "bench-drain"}});
    journal.open();
    chaos::ChaosOptions o;
    o.run_id = "bench-drain";
    o.guards.namespaces = {testing::kScaleNamespace};
    o.concurrency = bench.concurrency;
    chaos::Chaos c(client, journal, o);
    chaos::DrainOptions d;
    d.timeout = std::chrono::seconds(900);
    json r = c.drain_zone(testing::kScaleZone, d);
    finished();
    run.evicted = static_cast<int>(r["evicted"].size());
    c.rollback(std::chrono::seconds(60));
    journal.close();
  } else {
    std::string out;
    std::string k = testing::kubectl_path() + " --kubeconfig " + testing::kubeconfig_path() + " ";
    if (testing::run(k + "drain -l " + selector +
                         " --ignore-daemonsets --delete-emptydir-data --timeout=900s",
                     &out) != 0)
      throw std::runtime_error("kubectl drain failed: " + out);
    finished();
    run.evicted = size.in_zone;
    testing::run(k + "uncordon -l " + selector, &out);
  }
  testing::wait_scale_ready(client, size.pods, std::chrono::seconds(600));
  int budget = std::max(1, size.pods * size.max_unavailable_percent / 100);
  run.floor =
      std::ceil(static_cast<double>(size.in_zone) / budget) * watcher.median_time_to_ready();
  run.min_ready = watcher.min_healthy();
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {300, 900, 1500};
  int rounds = 2;
  std::string ready_delay = "5s";
  BenchOptions bench;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--pods" && i + 1 < argc) {
      sizes.clear();
      std::string list = argv[++i];
      for (size_t p = 0; p < list.size();) {
        size_t c = list.find(',', p);
        sizes.push_back(std::stoi(list.substr(p, c - p)));
        p = c == std::string::npos ? list.size() : c + 1;
      }
    } else if (a == "--rounds" && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else if (a == "--ready-delay" && i + 1 < argc) {
      ready_delay = argv[++i];
    } else if (a == "--apiserver-profile" && i + 1 < argc) {
      bench.profile_dir = argv[++i];
    } else if (a == "--concurrency" && i + 1 < argc) {
      bench.concurrency = static_cast<size_t>(std::max(1, std::atoi(argv[++i])));
    } else if (a == "--profile-seconds" && i + 1 < argc) {
      bench.profile_seconds = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: bench_drain [--pods 300,900,1500] [--rounds 2] [--ready-delay 5s]\n"
                   "                   [--concurrency 32] [--apiserver-profile DIR "
                   "[--profile-seconds 20]]\n");
      return 2;
    }
  }
  try {
    std::printf(
        "| pods | in zone | budget | round | tool | drain s | min Ready (bound) | PDB floor s | "
        "drain / floor |\n"
        "|---|---|---|---|---|---|---|---|---|\n");
    std::vector<std::string> summary, cpu_lines;
    for (int pods : sizes) {
      testing::ScaleCluster size;
      size.pods = pods;
      size.in_zone = pods / 3;
      size.ready_delay = ready_delay;
      int budget = std::max(1, pods * size.max_unavailable_percent / 100);
      std::vector<double> ours, theirs, floors;
      for (int r = 0; r < rounds; ++r) {
        for (int k = 0; k < 2; ++k) {
          bool mine = (r + k) % 2 == 0;  // alternate who goes first
          Run run = drain_once(mine, size, bench, r + 1);
          (mine ? ours : theirs).push_back(run.seconds);
          floors.push_back(run.floor);
          std::printf("| %d | %d | %d | %d | %s | %.1f | %d (%d) | %.1f | %.2f |\n", pods,
                      size.in_zone, budget, r + 1, mine ? "faultline" : "kubectl", run.seconds,
                      run.min_ready, pods - budget, run.floor,
                      run.floor > 0 ? run.seconds / run.floor : 0);
          cpu_lines.push_back(std::to_string(pods) + " pods, round " + std::to_string(r + 1) +
                              ", " + (mine ? "faultline" : "kubectl") + " (evicted " +
                              std::to_string(run.evicted) + " of " + std::to_string(size.in_zone) +
                              "): " + run.cpu);
          std::fflush(stdout);
        }
      }
      // The physical bound of the ratio: no drain that keeps the budget is
      // faster than the floor, so faultline / kubectl >= floor / kubectl.
      char line[320];
      std::snprintf(
          line, sizeof line,
          "%d pods: faultline %.1f s, kubectl %.1f s (medians), ratio %.3f (bound: floor / "
          "kubectl %.3f); PDB floor %.1f s, faultline / floor %.2f",
          pods, median(ours), median(theirs), median(ours) / median(theirs),
          median(floors) / median(theirs), median(floors), median(ours) / median(floors));
      summary.push_back(line);
      std::printf("%s\n", line);
    }
    auto client = testing::cluster_client();
    testing::scale_down(client);
    for (const auto& s : summary) std::printf("%s\n", s.c_str());
    std::printf("CPU during each drain (utime+stime by command, /proc):\n");
    for (const auto& s : cpu_lines) std::printf("  %s\n", s.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_drain: %s\n", e.what());
    try {
      auto client = testing::cluster_client();
      testing::scale_down(client);
    } catch (...) {
    }
    return 1;
  }
  return 0;
}
