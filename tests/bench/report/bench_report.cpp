// The report's cost at production size: a run record shaped like a zone
// drain of a third of --pods pods (one cordon per node, one eviction per pod,
// the pods and endpoints probes' step series, an event and a log line per
// eviction, the prediction of every displaced pod) rendered in each of the
// four formats and written with reports::write_all, as a run's "report" phase
// does. A benchmark: figures (time and size per format), no assertion.
//
// usage: bench_report [--pods 10000] [--nodes 1000]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "reports/render.h"
#include "reports/run_record.h"

namespace {

using faultline::reports::Format;
using faultline::reports::RunRecord;
using json = nlohmann::json;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

RunRecord drain_record(int pods, int nodes) {
  using namespace faultline::reports;
  RunRecord r;
  r.faultline_version = "bench";
  r.run_id = "bench-0001";
  r.experiment = "zone-drain";
  r.experiment_file = "zone_drain.yaml";
  r.script = "zone_drain.lua";
  r.target = {{"namespace", "shop"}, {"selector", "app=web"}, {"service", "web"}};
  r.started_at = "2026-12-02T12:00:00Z";
  r.ended_at = "2026-12-02T12:20:00Z";
  r.duration_seconds = 1200;
  r.result = "passed";
  for (const char* p :
       {"validate", "lock", "preflight", "inject", "observe", "verify", "rollback", "report"})
    r.phases.push_back({p, 0, 1, "ok", ""});
  int zone_nodes = nodes / 3, drained = pods / 3;
  int id = 1;
  for (int n = 0; n < zone_nodes; ++n)
    r.faults.push_back({id++,
                        "cordon_node",
                        "node/zone-a-" + std::to_string(n + 1),
                        {{"journal_state", "reverted"}},
                        1.0,
                        900.0,
                        "rolled_back",
                        ""});
  double t_end = 900;
  for (int p = 0; p < drained; ++p) {
    double t = 2.0 + 800.0 * p / drained;
    r.faults.push_back({id++,
                        "evict_pod",
                        "pod/shop/web-" + std::to_string(p),
                        {{"journal_state", "not_reversible"}},
                        t,
                        std::nullopt,
                        "not_reversible",
                        ""});
    r.events.push_back({t, "Normal", "Evicted", "pod/shop/web-" + std::to_string(p),
                        "faultline evicted pod shop/web-" + std::to_string(p)});
    r.log.push_back(std::to_string(t) + " info evicted shop/web-" + std::to_string(p));
  }
  // Step series as observe::to_series makes them: a point per change.
  auto step = [&](const std::string& name, int from, int per_pod_down, int per_pod_up) {
    Series s{name, "count", {}};
    int v = from;
    for (int p = 0; p < drained; ++p) {
      double t = 2.0 + 800.0 * p / drained;
      v -= per_pod_down;
      s.points.emplace_back(t, v);
      v += per_pod_up;
      s.points.emplace_back(t + 1.5, v);
    }
    s.points.emplace_back(t_end, v);
    r.series.push_back(std::move(s));
  };
  step("ready_pods", pods, 1, 1);
  step("ready_pods{zone=zone-a}", drained, 1, 0);
  step("ready_pods{zone=zone-b}", drained, 0, 1);
  step("ready_pods{zone=zone-c}", drained, 0, 1);
  step("ready_endpoints", pods, 1, 1);
  step("ready_endpoints{zone=zone-a}", drained, 1, 0);
  step("ready_endpoints{zone=zone-b}", drained, 0, 1);
  step("ready_endpoints{zone=zone-c}", drained, 0, 1);
  r.slos.push_back({"ready_endpoints", "ready_endpoints", "ready endpoints >= 90%", pods * 0.9,
                    std::to_string(pods - 1), ">= " + std::to_string(pods * 9 / 10), true,
                    std::nullopt, ""});
  r.slos.push_back({"replacement", "replacement", "every replica Ready off zone-a", 812.0, "812s",
                    "<= 1200s", true, std::nullopt, ""});
  r.slos.push_back({"pdb", "pdb", "the PDB held", double(pods - 1), std::to_string(pods - 1),
                    ">= " + std::to_string(pods * 9 / 10), true, std::nullopt, ""});
  json displaced = json::array();
  for (int p = 0; p < drained; ++p)
    displaced.push_back({{"pod", "shop/web-" + std::to_string(p)},
                         {"workload", "Deployment shop/web"},
                         {"node", "zone-b-" + std::to_string(p % zone_nodes + 1)},
                         {"zone", "zone-b"}});
  r.prediction = json{{"verdict", "pass"},
                      {"displaced", displaced},
                      {"slos",
                       {{{"name", "ready_endpoints"}, {"verdict", "pass"}, {"why", "x"}},
                        {{"name", "replacement"}, {"verdict", "pass"}, {"why", "x"}},
                        {{"name", "pdb"}, {"verdict", "pass"}, {"why", "x"}}}}};
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int pods = 10000, nodes = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--pods")
      pods = std::stoi(argv[i + 1]);
    else if (a == "--nodes")
      nodes = std::stoi(argv[i + 1]);
    else {
      std::cerr << "usage: bench_report [--pods N] [--nodes M]\n";
      return 2;
    }
  }
  RunRecord r = drain_record(pods, nodes);
  size_t points = 0;
  for (const auto& s : r.series) points += s.points.size();
  std::printf("record: %d pods (%d drained), %zu faults, %zu series points, %zu events\n", pods,
              pods / 3, r.faults.size(), points, r.events.size());
  using faultline::reports::render;
  for (auto [name, f] : {std::pair{"json", Format::Json}, std::pair{"junit", Format::Junit},
                         std::pair{"html", Format::Html}, std::pair{"md", Format::Markdown}}) {
    auto t0 = std::chrono::steady_clock::now();
    std::string doc = render(r, f);
    std::printf("%-5s %8.3f s  %9zu bytes\n", name, seconds_since(t0), doc.size());
  }
  auto dir = std::filesystem::temp_directory_path() / "faultline-bench-report";
  auto t0 = std::chrono::steady_clock::now();
  faultline::reports::write_all(r, dir.string());
  std::printf("write_all (4 files) %.3f s\n", seconds_since(t0));
  std::filesystem::remove_all(dir);
  return 0;
}
