// Probes from every zone (issue 13): an http probe with `from: every-zone`
// runs one vantage pod per zone (the faultline image, `faultline probe`) on
// the real nodes, and the runner follows their logs through the API server.
// A zone-outage drill fails zone-a (taint: the vantage pod tolerates it and
// stays), then zone-a loses power (tests/cluster/zone.sh fail): its vantage
// stops reporting and every sample it owed is "vantage lost", shown but not
// judged (its zone was faulted), while zone-b's and zone-c's vantages stay
// within the SLO. The report is checked in headless Chromium; rollback
// deletes the pods and leaves the cluster as it was.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/e2e/cluster_env.h"
#include "tests/e2e/experiments/experiment_env.h"
#include "tests/e2e/manifests/manifests_env.h"
#include "tests/test_paths.h"

namespace faultline::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

std::string vantage_pods() {
  std::string out;
  run(kubectl_path() + " --kubeconfig " + kubeconfig_path() +
          " -n faultline get pods -l app.kubernetes.io/component=vantage-probe -o name",
      &out);
  return out;
}

const json* find_slo_named(const json& report, const std::string& name) {
  for (const auto& s : report["slos"])
    if (s.value("name", "") == name) return &s;
  return nullptr;
}

const json* find_series(const json& report, const std::string& name) {
  for (const auto& s : report["series"])
    if (s.value("name", "") == name) return &s;
  return nullptr;
}

// The http probe from `from` on the real nodes (their selector and taint).
std::string vantage_probe(const std::string& ip, const std::string& from,
                          const std::string& image = "") {
  return "{ name: web, http: { url: \"http://" + ip +
         "/healthz\", rate: 20/s, timeout: 1s, keepalive: false, from: " + from +
         ", vantage_pods: { " + (image.empty() ? "" : "image: \"" + image + "\", ") +
         "node_selector: { faultline.io/node-kind: real }, tolerations: [{ key: "
         "faultline.io/real-node, operator: Exists, effect: NoSchedule }] } } }";
}

class Vantages : public ::testing::Test {
 protected:
  void SetUp() override {
    if (real_nodes().empty())
      FAIL() << "the local cluster has no real nodes (tests/cluster/up.sh --real-nodes-per-zone)";
    deploy_real_demo();
  }
  void TearDown() override {
    run(cluster_script("zone.sh") + " restore zone-a --state " + cluster_state_dir());
    kubectl("wait --for=condition=Ready nodes --all --timeout=120s");
  }
  // A drill that only holds (no fault) with the vantage probe from `from`.
  std::string holding_drill(const std::string& name, const std::string& from) {
    std::string ip = kubectl("-n shop get service checkout -o jsonpath={.spec.clusterIP}");
    scratch_.script("hold.lua", "log.info('holding')\nwait.sleep('120s')\n");
    ExperimentSpec spec;
    spec.name = name;
    spec.script = "hold.lua";
    spec.params = "";
    spec.probes = {vantage_probe(ip, from)};
    spec.slos = {"{ availability: { probe: web, min: \"99%\" } }"};
    return scratch_.experiment(spec.name, spec.yaml());
  }

  Scratch scratch_;
};

TEST_F(Vantages, ZoneOutageFromEveryZoneShowsTheDarkZoneLostAndTheOthersWithinSlo) {
  NodeSnapshot before = snapshot_nodes();
  std::string ip = kubectl("-n shop get service checkout -o jsonpath={.spec.clusterIP}");
  scratch_.script("vantage_outage.lua",
                  "chaos.cordon_zone(params.zone)\n"
                  "chaos.fail_zone(params.zone)\n"
                  "log.mark(params.zone .. ' down')\n"
                  "local r = wait.until_ready{ off_zone = params.zone, within = '90s' }\n"
                  "log.info('replaced: ' .. tostring(r.ok) .. '; power off now')\n"
                  "wait.sleep('12s')\n");
  ExperimentSpec spec;
  spec.name = "vantage-outage";
  spec.script = "vantage_outage.lua";
  spec.params = "{ zone: zone-a }";
  // The local cluster has no DNS: the vantage pods are given the ClusterIP.
  // Real nodes carry a NoSchedule taint of their own (tests/cluster).
  spec.probes = {vantage_probe(ip, "every-zone"), "{ name: pods, pods: {} }"};
  spec.slos = {"{ availability: { probe: web, min: \"99%\" } }",
               "{ replacement: { within: 90s } }"};
  spec.timing = "{ warmup: 3s, recovery: 30s, cooldown: 1s }";
  std::string out_dir = scratch_.output_dir();
  FaultlineProcess drill(
      {"run", scratch_.experiment(spec.name, spec.yaml()), "--output-dir", out_dir},
      scratch_.path("run.log"), kubeconfig_path());
  ASSERT_TRUE(eventually([&] { return !vantage_pods().empty(); }, 60s)) << drill.output();
  ASSERT_TRUE(
      eventually([&] { return drill.output().find("power off now") != std::string::npos; }, 150s))
      << drill.output();
  std::string out;
  ASSERT_EQ(run(cluster_script("zone.sh") + " fail zone-a --state " + cluster_state_dir(), &out), 0)
      << out;
  int code = drill.wait(180s);
  std::string output = drill.output();

  EXPECT_EQ(code, 0) << output;
  // Gone from the API at once, though zone-a's node is still dark.
  EXPECT_EQ(vantage_pods(), "") << output;
  json report = read_report(out_dir);
  std::map<std::string, double> measured;
  for (const char* zone : {"zone-a", "zone-b", "zone-c"}) {
    const json* slo = find_slo_named(report, std::string("availability(web@") + zone + ")");
    ASSERT_NE(slo, nullptr) << report["slos"].dump(2);
    EXPECT_TRUE(slo->value("passed", false)) << slo->dump(2);
    measured[zone] = slo->value("measured", -1.0);
    std::cout << "[ measured ] vantage " << zone << ": " << slo->value("measured_text", "") << "; "
              << slo->value("detail", "") << "\n";
  }
  const json* dark = find_slo_named(report, "availability(web@zone-a)");
  EXPECT_NE(dark->value("detail", "").find("not judged: the vantage's own zone zone-a was faulted"),
            std::string::npos)
      << dark->dump(2);
  EXPECT_NE(dark->value("detail", "").find("vantage lost x"), std::string::npos) << dark->dump(2);
  EXPECT_LT(measured["zone-a"], 0.95);
  EXPECT_GE(measured["zone-b"], 0.99);
  EXPECT_GE(measured["zone-c"], 0.99);
  // Over time: zone-a's vantage ends at 0 (every sample owed, lost); the
  // others end served.
  const json* a = find_series(report, "availability{probe=web,vantage=zone-a}");
  const json* b = find_series(report, "availability{probe=web,vantage=zone-b}");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_GE(a->at("points").size(), 10u);
  EXPECT_EQ(a->at("points").back()[1].get<double>(), 0.0) << a->dump();
  EXPECT_EQ(b->at("points").back()[1].get<double>(), 1.0) << b->dump();
  // Each vantage says how it was placed and what its clock offset was.
  for (const char* zone : {"zone-a", "zone-b", "zone-c"})
    EXPECT_NE(
        output.find(std::string("vantage web@") + zone + ": pod faultline-vantage-web-" + zone),
        std::string::npos)
        << output;

  // The report in headless Chromium: the per-vantage lines are drawn.
  std::string html = out_dir + "/report.html";
  std::string png = out_dir + "/report.png";
  std::string dom;
  std::string chromium =
      "chromium --headless --no-sandbox --disable-gpu --no-first-run "
      "--disable-background-networking --host-resolver-rules='MAP * ~NOTFOUND' "
      "--user-data-dir=" +
      scratch_.path("chromium") + " --window-size=1280,2000 ";
  ASSERT_EQ(run(chromium + "--screenshot=" + png + " file://" + html + " 2>/dev/null", &out), 0)
      << out;
  ASSERT_TRUE(fs::exists(png));
  EXPECT_GT(fs::file_size(png), 100u * 1024);
  ASSERT_EQ(run(chromium + "--dump-dom file://" + html + " 2>/dev/null", &dom), 0);
  for (const char* zone : {"zone-a", "zone-b", "zone-c"})
    EXPECT_NE(dom.find(std::string("web from ") + zone), std::string::npos) << zone;
  fs::path kept = fs::path(faultline::test_paths::artifact_dir()) / "vantage-outage";
  fs::create_directories(kept);
  fs::copy(out_dir, kept, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  std::cout << "[ measured ] report and screenshot kept in " << kept << "\n";

  run(cluster_script("zone.sh") + " restore zone-a --state " + cluster_state_dir());
  kubectl("wait --for=condition=Ready nodes --all --timeout=120s");
  // The node lifecycle controller lifts its unreachable taint a moment
  // after the node is Ready again: that one is not faultline's.
  EXPECT_TRUE(eventually(
      [] {
        return kubectl("get node zone-a-r1 -o jsonpath={.spec.taints[*].key}")
                   .find("node.kubernetes.io/unreachable") == std::string::npos;
      },
      60s));
  expect_cluster_as_before(before);
}

// A zone the cluster does not have: one line naming file:line:col, exit 2,
// no pod and no journal. An image that cannot be pulled (a registry on
// 127.0.0.1:1 that refuses): exit 4 before any fault, the pods deleted.
TEST_F(Vantages, AnUnknownZoneIsExit2AndAPodThatCannotStartIsExit4BeforeAnyFault) {
  NodeSnapshot before = snapshot_nodes();
  std::string ip = kubectl("-n shop get service checkout -o jsonpath={.spec.clusterIP}");
  scratch_.script("cordon_a.lua", "chaos.cordon_zone('zone-a')\n");
  ExperimentSpec spec;
  spec.name = "vantage-refused";
  spec.script = "cordon_a.lua";
  spec.params = "";
  spec.probes = {vantage_probe(ip, "[zone-b, zone-q]")};
  spec.slos = {"{ availability: { probe: web, min: \"99%\" } }"};
  std::string file = scratch_.experiment(spec.name, spec.yaml()), output;
  EXPECT_EQ(faultline("run " + file + " --output-dir " + scratch_.output_dir(), &output), 2)
      << output;
  EXPECT_NE(output.find(file + ":"), std::string::npos) << output;
  EXPECT_NE(output.find(": http probe from: zone \"zone-q\" has no nodes in this cluster"),
            std::string::npos)
      << output;
  EXPECT_EQ(vantage_pods(), "");
  EXPECT_TRUE(journal_configmaps().empty());

  spec.probes = {vantage_probe(ip, "[zone-b, zone-c]", "127.0.0.1:1/faultline:missing")};
  file = scratch_.experiment(spec.name, spec.yaml());
  std::string out_dir = scratch_.output_dir();
  EXPECT_EQ(faultline("run " + file + " --output-dir " + out_dir, &output), 4) << output;
  EXPECT_NE(output.find("cannot start: ErrImagePull"), std::string::npos) << output;
  EXPECT_EQ(vantage_pods(), "") << output;
  json report = read_report(out_dir);
  EXPECT_TRUE(report["faults"].empty()) << report["faults"].dump(2);
  expect_cluster_as_before(before);
}

// SIGTERM mid-drill: rollback deletes the vantage pods (exit 3). The runner
// holds only the ServiceAccount's token (manifests/base's RBAC): creating,
// following and deleting the vantage pods is all it is granted.
TEST_F(Vantages, SigtermMidDrillDeletesTheVantagePodsWithTheServiceAccountTokenAlone) {
  kubectl("apply -k " + source_dir() + "/manifests/base");
  std::string token = kubectl("create token faultline -n faultline --duration=10m");
  token.erase(token.find_last_not_of(" \n") + 1);
  manifests::TempDir dir;
  std::string sa_kubeconfig = manifests::write_token_kubeconfig(dir.path(), token);
  FaultlineProcess drill({"run", holding_drill("vantage-sigterm", "[zone-a, zone-c]"),
                          "--output-dir", scratch_.output_dir()},
                         scratch_.path("run.log"), sa_kubeconfig);
  ASSERT_TRUE(eventually([&] { return drill.output().find("holding") != std::string::npos; }, 90s))
      << manifests::redact(drill.output(), token);
  std::string pods = vantage_pods();
  EXPECT_EQ(std::count(pods.begin(), pods.end(), '\n'), 2) << pods;
  drill.signal(SIGTERM);
  EXPECT_EQ(drill.wait(60s), 3) << manifests::redact(drill.output(), token);
  std::string output = drill.output();
  EXPECT_EQ(output.find(token), std::string::npos) << "the token appears in the runner's output";
  std::string lower = output;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  EXPECT_EQ(lower.find("forbidden"), std::string::npos) << manifests::redact(output, token);
  EXPECT_EQ(vantage_pods(), "") << manifests::redact(output, token);
  EXPECT_TRUE(journal_configmaps().empty());
}

// A SIGKILLed runner leaves its vantage pods, journaled: `faultline
// recover` (once the dead run's lease expired) deletes them.
TEST_F(Vantages, SigkilledRunnersPodsAreDeletedByRecover) {
  FaultlineProcess drill(
      {"run", holding_drill("vantage-sigkill", "[zone-b]"), "--output-dir", scratch_.output_dir()},
      scratch_.path("run.log"), kubeconfig_path());
  ASSERT_TRUE(eventually([&] { return drill.output().find("holding") != std::string::npos; }, 90s))
      << drill.output();
  drill.signal(SIGKILL);
  EXPECT_EQ(drill.wait(30s), 128 + SIGKILL);
  EXPECT_NE(vantage_pods(), "");
  int journaled = 0;
  for (const auto& e : journal_entries())
    journaled += e.action == "create" && e.kind == "pod" && e.state == "applied";
  EXPECT_EQ(journaled, 1);
  int code = -1;
  std::string output;
  auto deadline = std::chrono::steady_clock::now() + 90s;
  while (std::chrono::steady_clock::now() < deadline) {
    code = faultline("recover", &output);
    if (code == 0) break;
    std::this_thread::sleep_for(2s);
  }
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("1 rolled back and cleared"), std::string::npos) << output;
  EXPECT_EQ(vantage_pods(), "");
  EXPECT_TRUE(journal_configmaps().empty());
}

}  // namespace
}  // namespace faultline::testing
