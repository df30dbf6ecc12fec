// Real traffic on the local cluster's real nodes: the demo app runs in
// containers (kubelet + containerd per zone), kube-proxy routes its ClusterIP,
// and faultline's http probe sends real requests through it while a zone
// loses power (tests/cluster/zone.sh: kubelets, containerds and containers
// SIGKILLed, their network gone) or is drained through the eviction API.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "tests/e2e/cluster_env.h"
#include "tests/e2e/experiments/experiment_env.h"
#include "tests/e2e/realnodes/real_demo.h"

namespace faultline::testing {
namespace {

using namespace std::chrono_literals;

// 50 requests/s through the ClusterIP, each on a fresh connection: every
// request is load-balanced anew, as a new client's would be (a kept-alive
// connection stays pinned to one pod and would miss most of an outage).
constexpr const char* kHttpProbe =
    "{ name: http, http: { url: \"http://checkout.shop.svc/healthz\", rate: 50/s, timeout: 1s, "
    "keepalive: false } }";

// The demo's target with the http probe, the endpoints and the pods probes.
ExperimentSpec real_traffic_spec(const std::string& name, const std::string& script,
                                 const std::string& params, std::vector<std::string> slos) {
  ExperimentSpec spec;
  spec.name = name;
  spec.script = script;
  spec.params = params;
  spec.probes = {kHttpProbe, "{ name: endpoints, endpoints: { service: checkout } }",
                 "{ name: pods, pods: {} }"};
  spec.slos = std::move(slos);
  return spec;
}

// What the availability SLO's detail says about the failed requests:
// "<ok> of <total> requests succeeded; ...; <n> failed between t=<a>s and t=<b>s (...)".
struct Failures {
  int ok = -1, total = -1, failed = 0;
  double from = 0, to = 0;
  std::string errors;
};

Failures failures_of(const json& report) {
  Failures f;
  const json* slo = find_slo(report, "availability");
  if (!slo) {
    ADD_FAILURE() << "no availability SLO in the report";
    return f;
  }
  std::string detail = slo->value("detail", "");
  std::smatch m;
  if (std::regex_search(detail, m, std::regex(R"((\d+) of (\d+) requests succeeded)")))
    f.ok = std::stoi(m[1]), f.total = std::stoi(m[2]);
  else
    ADD_FAILURE() << "availability detail without request counts: " << detail;
  if (std::regex_search(detail, m,
                        std::regex(R"((\d+) failed between t=([0-9.]+)s and t=([0-9.]+)s)")))
    f.failed = std::stoi(m[1]), f.from = std::stod(m[2]), f.to = std::stod(m[3]);
  if (std::regex_search(detail, m, std::regex(R"(errors: (.*?)(; |$))"))) f.errors = m[1];
  return f;
}

class RealNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    if (real_nodes().empty())
      FAIL() << "the local cluster has no real nodes (tests/cluster/up.sh --real-nodes-per-zone)";
    deploy_real_demo();
  }
  void TearDown() override {
    run(cluster_script("zone.sh") + " restore zone-a --state " + cluster_state_dir());
    kubectl("wait --for=condition=Ready nodes --all --timeout=120s");
    // The demo as shipped again (a test may have patched it).
    kubectl("apply -k " + source_dir() + "/manifests/demo/real-nodes");
  }

  std::string write(ExperimentSpec spec) { return scratch_.experiment(spec.name, spec.yaml()); }

  // zone_drain.lua on zone-a with the http probe and an availability SLO of
  // 100%; returns the exit code, the report in *report.
  int drain_zone_a(const std::string& name, json* report, std::string* output) {
    ExperimentSpec spec = real_traffic_spec(
        name, "zone_drain.lua", "{ zone: zone-a, timeout: 90s, within: 60s }",
        {"{ availability: { probe: http, min: \"100%\" } }", "{ pdb: { name: checkout } }"});
    std::string out_dir = scratch_.output_dir();
    int code = faultline("run " + write(spec) + " --output-dir " + out_dir, output);
    *report = read_report(out_dir);
    return code;
  }

  Scratch scratch_;
};

TEST_F(RealNodes, AreLabelledTaintedLeftToTheirKubeletsAndServeTheDemoThroughItsClusterIP) {
  auto nodes = real_nodes();
  ASSERT_EQ(nodes.size(), 3u);
  for (const auto& n : nodes) {
    std::string node = kubectl("get node " + n + " -o json");
    json j = json::parse(node);
    EXPECT_FALSE(j["metadata"]["labels"].value("topology.kubernetes.io/zone", "").empty()) << n;
    EXPECT_FALSE(j["metadata"].value("annotations", json::object()).contains("kwok.x-k8s.io/node"))
        << n;
    bool tainted = false;
    for (const auto& t : j["spec"].value("taints", json::array()))
      tainted |=
          t.value("key", "") == "faultline.io/real-node" && t.value("effect", "") == "NoSchedule";
    EXPECT_TRUE(tainted) << n << " lacks the real-node taint: " << j["spec"].dump();
    // A real kubelet reports its container runtime; kwok's fake nodes do not run one.
    EXPECT_EQ(
        j["status"]["nodeInfo"].value("containerRuntimeVersion", "").rfind("containerd://", 0), 0u)
        << j["status"]["nodeInfo"].dump();
  }
  // From the host, through kube-proxy, to the pods in their network namespaces.
  std::string out;
  std::set<std::string> answered;
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(run("curl -sS --max-time 2 --noproxy '*' http://" + demo_cluster_ip() + "/", &out), 0)
        << out;
    answered.insert(out);
  }
  EXPECT_GE(answered.size(), 3u) << "the ClusterIP did not spread requests over the pods";
  // The API server through the `kubernetes` Service, as an in-cluster client
  // on a real node (KUBERNETES_SERVICE_HOST) reaches it: kube-proxy, then the
  // relay into the host's 127.0.0.1.
  std::string api_ip = kubectl("get service kubernetes -n default -o jsonpath='{.spec.clusterIP}'");
  ASSERT_EQ(run("curl -sS --max-time 5 --noproxy '*' --cacert " + cluster_state_dir() +
                    "/pki/ca.crt https://" + api_ip + "/version",
                &out),
            0)
      << out;
  EXPECT_NE(out.find("v1.36.3"), std::string::npos) << out;
}

// A zone loses power while faultline watches: requests sent to the dead
// zone's pods fail (their packets vanish: connect timeouts) until the node
// lifecycle controller marks the nodes NotReady, after the node-monitor grace
// period, and the endpoints go unready. The report shows that window.
TEST_F(RealNodes, ZonePowerLoss_FailedRequestsLastAboutTheNodeMonitorGracePeriod) {
  double grace = controller_manager_seconds("--node-monitor-grace-period");
  ASSERT_GT(grace, 0) << "no --node-monitor-grace-period on the controller-manager";
  scratch_.script("watch_power_loss.lua",
                  "log.info('watching: the zone is failed from outside')\n"
                  "local r = wait.until_ready{ off_zone = params.zone, within = '90s' }\n"
                  "log.info('replaced: ' .. tostring(r.ok))\n"
                  "wait.sleep('4s')\n");
  ExperimentSpec spec =
      real_traffic_spec("real-power-loss", "watch_power_loss.lua", "{ zone: zone-a }",
                        {"{ availability: { probe: http, min: \"99.9%\" } }"});
  spec.timing = "{ warmup: 3s, recovery: 30s, cooldown: 1s }";
  std::string out_dir = scratch_.output_dir();
  FaultlineProcess run_({"run", write(spec), "--output-dir", out_dir}, scratch_.path("run.log"),
                        kubeconfig_path());
  ASSERT_TRUE(eventually([&] { return run_.output().find("watching:") != std::string::npos; }, 60s))
      << run_.output();
  std::this_thread::sleep_for(2s);
  std::string out;
  ASSERT_EQ(run(cluster_script("zone.sh") + " fail zone-a --state " + cluster_state_dir(), &out), 0)
      << out;
  int code = run_.wait(180s);

  EXPECT_EQ(code, 1) << "the availability SLO should fail on a power loss:\n" << run_.output();
  json report = read_report(out_dir);
  Failures f = failures_of(report);
  ASSERT_GT(f.total, 0);
  EXPECT_GT(f.failed, 0) << "no request failed during a zone power loss";
  EXPECT_EQ(f.total - f.ok, f.failed);
  // The dead pods' packets vanish: the requests time out connecting.
  EXPECT_NE(f.errors.find("connect timeout after 1s"), std::string::npos) << f.errors;
  // The window: from the power loss until the endpoints went unready, which
  // the node-monitor grace period decides (the last Lease renewal came up to
  // 2s before the loss; then the monitor period, the endpoint update and
  // kube-proxy's resync, and the 1s timeout of the last failed request).
  double span = f.to - f.from;
  EXPECT_GE(span, grace - 3) << "failures from t=" << f.from << " to t=" << f.to;
  EXPECT_LE(span, grace + 5) << "failures from t=" << f.from << " to t=" << f.to;
  // About a third of the requests in the window went to the lost zone.
  double share = f.failed / (span * 50.0);
  EXPECT_GT(share, 0.15) << f.failed << " failed in " << span << "s";
  EXPECT_LT(share, 0.6) << f.failed << " failed in " << span << "s";
  std::cout << "[ measured ] power loss: " << f.failed << " of " << f.total
            << " requests failed, between t=" << f.from << "s and t=" << f.to << "s (" << span
            << "s; node-monitor grace " << grace << "s); errors: " << f.errors << "\n";
}

// Draining a zone evicts its pods; with the demo's preStop delay each one
// keeps serving while kube-proxy takes it out of the Service: no request is
// lost at 50/s.
TEST_F(RealNodes, ZoneDrainWithPreStopDelayLosesNoRequest) {
  json report;
  std::string output;
  int code = drain_zone_a("real-drain-prestop", &report, &output);

  EXPECT_EQ(code, 0) << output;
  Failures f = failures_of(report);
  EXPECT_GT(f.total, 250) << "too few requests to judge";
  EXPECT_EQ(f.ok, f.total) << "lost requests: " << f.errors;
  std::cout << "[ measured ] drain with preStop: " << f.ok << " of " << f.total
            << " requests succeeded\n";
}

// The same drain without the preStop delay: each evicted pod stops accepting
// at once while kube-proxy still sends it new connections for a moment. The
// report must say how many requests that cost (whatever the count: it
// depends on how fast kube-proxy catches up).
TEST_F(RealNodes, ZoneDrainWithoutPreStopReportsTheRequestsLost) {
  kubectl(
      R"(patch deployment checkout -n shop --type json -p '[{"op": "remove", "path": "/spec/template/spec/containers/0/lifecycle"}]')");
  kubectl("rollout status deployment/checkout -n shop --timeout=120s");
  deploy_real_demo();
  json report;
  std::string output;
  int code = drain_zone_a("real-drain-no-prestop", &report, &output);

  Failures f = failures_of(report);
  EXPECT_GT(f.total, 250) << "too few requests to judge";
  // Passed when kube-proxy won the race every time, failed otherwise; either
  // way the report counts the requests.
  EXPECT_TRUE((code == 0 && f.ok == f.total) ||
              (code == 1 && f.failed == f.total - f.ok && f.failed > 0))
      << "exit " << code << ", " << f.ok << " of " << f.total << ", " << f.failed << " failed\n"
      << output;
  std::cout << "[ measured ] drain without preStop: " << f.total - f.ok << " of " << f.total
            << " requests lost; errors: " << f.errors << "\n";
}

// Breaking the PDB on purpose (pdb_violation.lua: 3 of the 6 pods deleted at
// once, no grace): the Service drops below the budget's 4 ready endpoints
// until the replacements are Ready, and the report shows that dip next to
// what it cost in requests (measured: none with this app, which shuts down
// gracefully while kube-proxy already routes around it).
TEST_F(RealNodes, PdbViolationShowsTheAvailabilityDip) {
  ExperimentSpec spec = real_traffic_spec("real-pdb-violation", "pdb_violation.lua",
                                          "{ pdb: checkout, by: 1, within: 60s }",
                                          {"{ availability: { probe: http, min: \"100%\" } }",
                                           "{ ready_endpoints: { service: checkout, min: 4 } }"});
  std::string out_dir = scratch_.output_dir();
  std::string output;
  int code = faultline("run " + write(spec) + " --output-dir " + out_dir, &output);

  EXPECT_EQ(code, 1) << "the budget was broken, yet no SLO failed:\n" << output;
  json report = read_report(out_dir);
  const json* endpoints = find_slo(report, "ready_endpoints");
  ASSERT_NE(endpoints, nullptr);
  EXPECT_FALSE(endpoints->value("passed", true)) << endpoints->dump(2);
  ASSERT_TRUE((*endpoints)["measured"].is_number()) << endpoints->dump(2);
  EXPECT_LE((*endpoints)["measured"].get<double>(), 3.0) << endpoints->dump(2);
  Failures f = failures_of(report);
  EXPECT_GT(f.total, 50) << "too few requests to judge";
  EXPECT_EQ(f.failed, f.total - f.ok);
  std::cout << "[ measured ] PDB violation: ready endpoints down to " << (*endpoints)["measured"]
            << "; " << f.failed << " of " << f.total << " requests lost; errors: " << f.errors
            << "\n";
}

// experiments/zone-outage-http.yaml as shipped, on the demo app on real
// nodes: it passes (availability and latency through the ClusterIP
// included), every replica is re-placed off zone-a spread 3/3, and the nodes
// are left as found.
TEST_F(RealNodes, ShippedZoneOutageHttp_PassesWithRealTrafficReplacesEveryReplicaAndRollsBack) {
  NodeSnapshot before = snapshot_nodes();
  std::string out_dir = scratch_.output_dir();
  std::string output;
  int code = faultline(
      "run " + source_dir() + "/experiments/zone-outage-http.yaml --output-dir " + out_dir,
      &output);

  EXPECT_EQ(code, 0) << output;
  expect_cluster_as_before(before);
  expect_reports_written(out_dir);
  json report = read_report(out_dir);
  EXPECT_EQ(report.value("result", ""), "passed") << report.value("error", "");
  for (const auto& s : report.value("slos", json::array()))
    EXPECT_TRUE(s.value("passed", false)) << s.dump(2);
  const json* latency = find_slo(report, "latency");
  ASSERT_NE(latency, nullptr) << "zone-outage-http.yaml lost its latency SLO";
  Failures f = failures_of(report);
  EXPECT_GT(f.total, 50);
  const json* replacement = find_slo(report, "replacement");
  ASSERT_NE(replacement, nullptr);
  EXPECT_NE(replacement->value("detail", "").find("spread at end: zone-b 3, zone-c 3"),
            std::string::npos)
      << replacement->value("detail", "");
  // Every node of zone-a (kwok and real) cordoned and tainted, then restored.
  int zone_a_nodes = 0;
  for (const auto& [name, node] : before)
    if (node["labels"].value("topology.kubernetes.io/zone", "") == "zone-a") ++zone_a_nodes;
  std::map<std::string, int> faults;
  for (const auto& fault : report.value("faults", json::array()))
    if (fault.value("status", "") == "rolled_back") ++faults[fault.value("action", "")];
  EXPECT_EQ(faults["cordon_node"], zone_a_nodes) << report["faults"].dump(2);
  EXPECT_EQ(faults["taint_node"], zone_a_nodes) << report["faults"].dump(2);
  std::cout << "[ measured ] zone-outage-http.yaml: availability " << f.ok << " of " << f.total
            << ", " << latency->value("measured_text", "") << ", replacement "
            << replacement->value("measured_text", "") << "\n";
}

}  // namespace
}  // namespace faultline::testing
