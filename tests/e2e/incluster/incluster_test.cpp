// faultline run for real as a Kubernetes Job and CronJob: the image that
// scripts/image.sh builds from the repo's Dockerfile (the ctest fixture
// `faultline_image`), imported into the real nodes' containerd, runs the
// shipped overlays (manifests/overlays/ci-gate, scheduled-drill) as pods on
// real nodes with the in-cluster config and the ServiceAccount token the
// kubelet mounts (the ctest fixture `faultline_image_load` imports it). The
// overlays used are tests/incluster/* (the shipped ones plus placement on a
// real node and a PersistentVolume).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/e2e/cluster_env.h"

namespace faultline::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

// tests/incluster/ci-gate/pv.yaml: the claim faultline-reports lives here.
constexpr const char* kReportsDir = "/tmp/faultline-incluster-reports";

std::string kubectl_cmd() { return kubectl_path() + " --kubeconfig " + kubeconfig_path(); }

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void apply_overlay(const std::string& name) {
  kubectl("apply -k " + source_dir() + "/tests/incluster/" + name);
}

// "Complete" or "Failed" once the Job has finished, "" at the timeout.
std::string wait_job(const std::string& job, std::chrono::seconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    std::string conds = kubectl("-n faultline get job " + job +
                                " -o 'jsonpath={.status.conditions[?(@.status==\"True\")].type}'");
    for (const char* c : {"Complete", "Failed"})
      if (conds.find(c) != std::string::npos) return c;
    std::this_thread::sleep_for(500ms);
  }
  return "";
}

// The Job's pod, as JSON (its status holds the runner's exit code).
json job_pod(const std::string& job) {
  json pods = json::parse(
      kubectl("-n faultline get pods -l batch.kubernetes.io/job-name=" + job + " -o json"));
  if (pods["items"].size() != 1) {
    ADD_FAILURE() << "expected one pod of job " << job << ", got " << pods["items"].size();
    return json::object();
  }
  return pods["items"][0];
}

// containerStatuses[0].state.terminated.exitCode, -1 when not terminated.
int exit_code(const json& pod) {
  json statuses = pod.value("status", json::object()).value("containerStatuses", json::array());
  if (statuses.empty()) return -1;
  return statuses[0]
      .value("state", json::object())
      .value("terminated", json::object())
      .value("exitCode", -1);
}

// The report files of the last run on the claim: removed before each run,
// so what is read afterwards was written by that run.
void clear_reports() {
  fs::create_directories(kReportsDir);
  ASSERT_EQ(run("chown 65532:65532 " + std::string(kReportsDir) + " && chmod 0750 " + kReportsDir),
            0);
  for (const char* f : {"report.json", "report.html", "junit.xml", "summary.md"})
    fs::remove(fs::path(kReportsDir) / f);
}

// The Job faultline-ci-gate of tests/incluster/<overlay>, run to its end on
// fresh report files; its pod (empty, with a test failure, when the Job did
// not end as `verdict`).
json run_ci_gate(const std::string& overlay, const std::string& verdict) {
  clear_reports();
  apply_overlay(overlay);
  std::string got = wait_job("faultline-ci-gate", 180s);
  EXPECT_EQ(got, verdict);
  return got == verdict ? job_pod("faultline-ci-gate") : json::object();
}

// The Debian Pushgateway, inside the cluster's network namespace on the
// address the pods already reach (the API-server relay's, 10.250.k.2), behind
// a selector-less Service monitoring/prometheus-pushgateway. The local
// cluster has no cluster DNS, so pods are given the Service's ClusterIP.
class InClusterPushgateway {
 public:
  InClusterPushgateway() {
    std::string state = trim(run_out("realpath -m " + cluster_state_dir()));
    std::string netns = "fl-" + trim(run_out("printf %s " + state + " | sha256sum | cut -c1-8"));
    std::string k = trim(slurp(fs::path(state) / "realnet"));
    ip_ = "10.250." + k + ".2";
    std::string listen = "--web.listen-address=" + ip_ + ":9091";
    pid_ = fork();
    if (pid_ == 0) {
      // `ip netns exec` execs the command in the namespace (no fork): pid_ is
      // the Pushgateway. An empty --persistence.file keeps nothing across runs.
      execlp("ip", "ip", "netns", "exec", netns.c_str(), "prometheus-pushgateway", listen.c_str(),
             "--persistence.file=", static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 100 && run("curl -sf http://" + ip_ + ":9091/-/ready") != 0; ++i)
      std::this_thread::sleep_for(100ms);
    kubectl_stdin(R"(apiVersion: v1
kind: Namespace
metadata: { name: monitoring }
---
apiVersion: v1
kind: Service
metadata: { name: prometheus-pushgateway, namespace: monitoring }
spec:
  ports: [{ name: http, port: 9091, targetPort: 9091 }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: prometheus-pushgateway-local
  namespace: monitoring
  labels: { kubernetes.io/service-name: prometheus-pushgateway }
addressType: IPv4
ports: [{ name: http, port: 9091 }]
endpoints: [{ addresses: [")" +
                  ip_ + R"("], conditions: { ready: true } }]
)");
    cluster_ip_ =
        kubectl("-n monitoring get service prometheus-pushgateway -o jsonpath={.spec.clusterIP}");
  }
  ~InClusterPushgateway() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    run(kubectl_cmd() + " delete namespace monitoring --wait=false");
  }
  std::string service_url() const { return "http://" + cluster_ip_ + ":9091"; }
  std::string metrics() const { return run_out("curl -sf http://" + ip_ + ":9091/metrics"); }

  static std::string run_out(const std::string& cmd) {
    std::string out;
    run(cmd, &out);
    return out;
  }
  static void kubectl_stdin(const std::string& yaml) {
    fs::path f = fs::path(::testing::TempDir()) / "incluster-pushgateway.yaml";
    std::ofstream(f) << yaml;
    kubectl("apply -f " + f.string());
  }

 private:
  pid_t pid_ = -1;
  std::string ip_, cluster_ip_;
};

class InCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    if (real_nodes().empty())
      FAIL() << "the local cluster has no real nodes (tests/cluster/up.sh --real-nodes-per-zone)";
    // A Job runs once: the previous test's go first (their pods with them).
    run(kubectl_cmd() + " -n faultline delete jobs --all --cascade=foreground --wait=true");
    run(kubectl_cmd() + " -n faultline delete pod faultline-reports-reader --ignore-not-found");
    // The scheduled drill's Pushgateway URL would outlive its Pushgateway:
    // every later Job reads it (optional env) and logs a failed push.
    run(kubectl_cmd() + " -n faultline delete configmap faultline-settings --ignore-not-found");
    deploy_demo();
  }
  void TearDown() override {
    if (HasFailure()) {
      std::string out;
      run(kubectl_cmd() + " -n faultline get jobs,pods -o wide; " + kubectl_cmd() +
              " -n faultline logs -l app.kubernetes.io/component=drill --tail=40",
          &out);
      std::cerr << out;
    }
  }
};

// The shipped ci-gate overlay as a pod on a real node: the drill passes, the
// Job is Complete, exit 0 is in the pod status, and the reports come out as
// docs/ci-gate.md says: `kubectl logs job/...` and `kubectl cp` from the
// reader pod, both through the API server to the kubelet.
TEST_F(InCluster, CiGateJobPassesAndItsReportsComeOutThroughTheKubelet) {
  json pod = run_ci_gate("ci-gate", "Complete");
  ASSERT_FALSE(pod.empty());
  EXPECT_EQ(exit_code(pod), 0);
  EXPECT_EQ(pod["spec"].value("nodeName", ""), "zone-b-r1");

  std::string logs = kubectl("-n faultline logs job/faultline-ci-gate --tail=50");
  EXPECT_NE(logs.find("result: passed (exit 0)"), std::string::npos) << logs;

  std::string out;
  ASSERT_EQ(run(kubectl_cmd() + " kustomize --load-restrictor=LoadRestrictionsNone " +
                    source_dir() + "/tests/incluster/reader | " + kubectl_cmd() + " apply -f -",
                &out),
            0)
      << out;
  kubectl("-n faultline wait --for=condition=Ready pod/faultline-reports-reader --timeout=60s");
  fs::path drill = fs::path(::testing::TempDir()) / "incluster-drill";
  fs::remove_all(drill);
  kubectl("-n faultline cp faultline-reports-reader:/reports " + drill.string());
  run(kubectl_cmd() + " -n faultline delete pod faultline-reports-reader --wait=false");
  for (const char* f : {"report.json", "report.html", "junit.xml", "summary.md"})
    EXPECT_TRUE(fs::exists(drill / f)) << f << " not copied out";
  json report = json::parse(slurp(drill / "report.json"));
  // The run used the in-cluster config: the kubernetes Service and the token.
  EXPECT_EQ(report.value("cluster_context", ""), "in-cluster");
  EXPECT_EQ(report.value("exit_code", -1), 0);
  expect_cluster_clean();
}

// An experiment made to fail (6 ready endpoints asked for through a drain
// that evicts 2): the Job Fails and the pod status holds exit code 1.
TEST_F(InCluster, CiGateJobFailsWithExitCode1WhenAnSloFails) {
  json pod = run_ci_gate("ci-gate-fail", "Failed");
  ASSERT_FALSE(pod.empty());
  EXPECT_EQ(exit_code(pod), 1);
  std::string summary = slurp(fs::path(kReportsDir) / "summary.md");
  EXPECT_NE(summary.find("1 of 3 SLOs failed"), std::string::npos) << summary;
  expect_cluster_clean();
}

// A Job created from the scheduled-drill CronJob, its pod pinned to zone-a:
// the zone zone-outage.yaml fails with faultline's own NoExecute taint. The
// runner tolerates only that taint (manifests/base), so it outlives its own
// fault, passes, and pushes its metrics to a real Pushgateway through the
// Service's ClusterIP.
TEST_F(InCluster, ScheduledDrillInTheZoneItFailsPassesAndPushesMetrics) {
  InClusterPushgateway gateway;
  apply_overlay("scheduled-drill");
  // No cluster DNS here: the overlay's Service name becomes its ClusterIP.
  std::string out;
  ASSERT_EQ(
      run(kubectl_cmd() +
              " -n faultline create configmap faultline-settings --from-literal=pushgateway-url=" +
              gateway.service_url() + " --dry-run=client -o yaml | " + kubectl_cmd() +
              " apply -f -",
          &out),
      0)
      << out;
  kubectl("-n faultline create job faultline-now --from=cronjob/faultline-scheduled-drill");
  std::string verdict = wait_job("faultline-now", 180s);
  json pod = job_pod("faultline-now");
  EXPECT_EQ(pod["spec"].value("nodeName", ""), "zone-a-r1");
  ASSERT_EQ(verdict, "Complete");
  EXPECT_EQ(exit_code(pod), 0);
  std::string logs = kubectl("-n faultline logs job/faultline-now --tail=80");
  EXPECT_NE(logs.find("metrics pushed to " + gateway.service_url()), std::string::npos) << logs;
  std::string metrics = gateway.metrics();
  EXPECT_NE(metrics.find("faultline_"), std::string::npos) << metrics.substr(0, 2000);
  expect_cluster_clean();
}

// The game-day overlay's rolling failover fails zone-a, zone-b and zone-c in
// turn: whichever zone the runner's pod is in gets faultline's NoExecute
// taint at some point, and the runner must outlive it (same pod, exit 0).
TEST_F(InCluster, GameDayRunnerOutlivesARollingFailoverOfEveryZone) {
  kubectl("apply -f " + source_dir() + "/tests/incluster/ci-gate/pv.yaml");
  apply_overlay("game-day");
  ASSERT_EQ(wait_job("faultline-game-day", 240s), "Complete");
  json pod = job_pod("faultline-game-day");
  ASSERT_FALSE(pod.empty());
  EXPECT_EQ(exit_code(pod), 0);
  std::string node = pod["spec"].value("nodeName", "");
  std::string zone = node.substr(0, node.rfind("-r"));  // real nodes: <zone>-r<n>
  std::string logs = kubectl("-n faultline logs job/faultline-game-day");
  EXPECT_NE(logs.find("failed zone " + zone + " (NoExecute taint"), std::string::npos)
      << "the runner's own zone " << zone << " was not failed:\n"
      << logs;
  EXPECT_NE(logs.find("result: passed (exit 0)"), std::string::npos) << logs;
  expect_cluster_clean();
}

// The Job deleted while zone-a is failed: the pod gets SIGTERM, rolls back
// within its grace period (120 s, longer than the 90 s rollback deadline)
// and exits 3; nothing is left on the cluster.
TEST_F(InCluster, DeletingTheJobMidDrillRollsBack) {
  clear_reports();
  apply_overlay("ci-gate-hold");
  auto tainted = [] {
    return kubectl("get node zone-a-1 -o 'jsonpath={.spec.taints[*].key}'").find("zone-failure") !=
           std::string::npos;
  };
  auto end = std::chrono::steady_clock::now() + 120s;
  while (!tainted() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(tainted()) << "the drill never failed zone-a";
  json pod = job_pod("faultline-ci-gate");
  EXPECT_GE(pod["spec"].value("terminationGracePeriodSeconds", 0), 120);
  std::string name = pod["metadata"].value("name", "");
  // Follow the log until the container ends: the pod is gone afterwards.
  fs::path log = fs::path(::testing::TempDir()) / "incluster-deleted.log";
  std::string follow =
      kubectl_cmd() + " -n faultline logs -f " + name + " > " + log.string() + " 2>&1";
  std::thread follower([&] { run(follow); });
  std::this_thread::sleep_for(1s);
  auto t0 = std::chrono::steady_clock::now();
  kubectl("-n faultline delete job faultline-ci-gate --wait=false");
  std::string out;
  run(kubectl_cmd() + " -n faultline wait --for=delete pod/" + name + " --timeout=150s", &out);
  double gone = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  follower.join();
  std::cerr << "pod gone " << gone << " s after the Job was deleted\n";
  EXPECT_LT(gone, 120.0);
  std::string text = slurp(log);
  EXPECT_NE(text.find("SIGTERM"), std::string::npos) << text;
  EXPECT_NE(text.find("(exit 3)"), std::string::npos) << text;
  expect_cluster_clean();
}

// The vantage probe as Kubernetes runs it: one pod per zone (the image's
// `faultline probe`, pinned to the zone's real node, under the namespace's
// restricted Pod Security Standard) probing the demo app's ClusterIP, and its
// samples read back through the API server (`kubectl logs`, the kubelet):
// one JSON line per request, on a wall clock that agrees with this machine's.
TEST_F(InCluster, ProbePodPerZoneStreamsItsSamplesThroughTheApiServer) {
  deploy_real_demo();
  std::string ip = kubectl("-n shop get service checkout -o jsonpath={.spec.clusterIP}");
  const std::vector<std::string> zones = {"zone-a", "zone-b", "zone-c"};
  std::string yaml;
  for (const auto& zone : zones)
    yaml += R"(---
apiVersion: v1
kind: Pod
metadata: { name: faultline-probe-)" +
            zone + R"(, namespace: faultline }
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  nodeSelector: { faultline.io/node-kind: real, topology.kubernetes.io/zone: )" +
            zone + R"( }
  tolerations: [{ key: faultline.io/real-node, operator: Exists, effect: NoSchedule }]
  securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: RuntimeDefault } }
  containers:
    - name: probe
      image: faultline:0.1.0
      imagePullPolicy: IfNotPresent
      args: [probe, --url, "http://)" +
            ip + R"(/healthz", --rate, 10/s, --duration, 3s, --zone, )" + zone +
            R"(, --no-keepalive]
      securityContext:
        readOnlyRootFilesystem: true
        allowPrivilegeEscalation: false
        capabilities: { drop: [ALL] }
)";
  fs::path f = fs::path(::testing::TempDir()) / "incluster-probe-pods.yaml";
  std::ofstream(f) << yaml;
  double before =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  kubectl("apply -f " + f.string());
  for (const auto& zone : zones) {
    std::string pod = "faultline-probe-" + zone;
    kubectl("-n faultline wait --for=jsonpath='{.status.phase}'=Succeeded pod/" + pod +
            " --timeout=60s");
    std::string logs = kubectl("-n faultline logs " + pod);
    std::istringstream in(logs);
    std::vector<json> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
    ASSERT_GE(lines.size(), 25u) << logs;
    EXPECT_EQ(lines[0].value("probe", ""), "start") << zone;
    double after =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    int ok = 0;
    double last = 0;
    for (size_t i = 1; i < lines.size(); ++i) {
      ok += lines[i].value("ok", false) ? 1 : 0;
      EXPECT_EQ(lines[i].value("zone", ""), zone);
      double t = lines[i].value("t", 0.0);
      EXPECT_GT(t, before) << zone << ": sample before the pod was created";
      EXPECT_LT(t, after) << zone << ": sample after its log was read";
      EXPECT_GE(t, last);
      last = t;
    }
    EXPECT_EQ(ok, static_cast<int>(lines.size()) - 1) << zone << ": " << logs;
  }
  run(kubectl_cmd() + " delete -f " + f.string() + " --wait=false");
}

}  // namespace
}  // namespace faultline::testing
