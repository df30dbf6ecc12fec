// One drill per cluster, and a stop that nothing outruns, on the real local
// cluster: a second drill in another state namespace is refused; a stale
// lock is taken over only by compare-and-swap and only its own run's marks
// are undone; a drill whose lock is taken from it stops at once; a script
// stuck inside one C call (a backtracking pattern) is rolled back after
// SIGTERM within the grace period.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <thread>

#include "runner/chaos/journal.h"
#include "runner/chaos/lock.h"
#include "runner/kube/config.h"
#include "tests/e2e/cluster_env.h"
#include "tests/e2e/experiments/experiment_env.h"
#include "tests/e2e/experiments/fault_proxy.h"

namespace faultline::testing {
namespace {

using namespace std::chrono_literals;
namespace res = kube::resources;

bool cordoned_by(const std::string& node, const std::string& run) {
  auto n = cluster_client().get(res::kNodes, "", node);
  return n["spec"].value("unschedulable", false) &&
         n["metadata"].value("annotations", json::object()).value(chaos::kCordonedAnnotation, "") ==
             run;
}

bool zone_a_cordoned_by_faultline() {
  auto n = cluster_client().get(res::kNodes, "", "zone-a-1");
  return n["spec"].value("unschedulable", false) &&
         n["metadata"].value("annotations", json::object()).contains(chaos::kCordonedAnnotation);
}

// A node cordoned as a faultline run would have cordoned it.
void cordon_as(const std::string& node, const std::string& run) {
  kubectl("annotate node " + node + " --overwrite " + chaos::kCordonedAnnotation + "=" + run);
  kubectl("cordon " + node);
}

class LockAndStop : public ::testing::Test {
 protected:
  void SetUp() override {
    fresh_demo();
    before_ = snapshot_nodes();
  }
  void TearDown() override {
    try {
      for (const auto& node : extra_cordons_) {
        kubectl("uncordon " + node);
        kubectl("annotate node " + node + " " + chaos::kCordonedAnnotation + "-");
      }
      kubectl("delete namespace faultline-other --ignore-not-found --wait=false");
      if (scratchy_) kubectl("delete deployment scratchy -n shop --ignore-not-found");
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
    if (!journal_configmaps().empty() || lock_lease_exists()) {
      kubectl("delete lease faultline-lock -n faultline --ignore-not-found");
      std::string out;
      faultline("recover", &out);
    }
  }

  std::string experiment(const std::string& name, const std::string& lua) {
    scratch_.script(name + ".lua", lua);
    ExperimentSpec spec;
    spec.name = "e2e-" + name;
    spec.script = name + ".lua";
    spec.params = "";
    return scratch_.experiment(name, spec.yaml());
  }

  Scratch scratch_;
  NodeSnapshot before_;
  std::vector<std::string> extra_cordons_;
  bool scratchy_ = false;
};

const char* kCordonAndHold = "chaos.cordon_zone(\"zone-a\")\nwait.sleep(\"60s\")\n";

TEST_F(LockAndStop, SecondDrillInAnotherStateNamespace_IsRefusedWithExitFour) {
  std::string file = experiment("cordon-and-hold", kCordonAndHold), out_dir = scratch_.output_dir();
  FaultlineProcess first({"run", file, "--output-dir", out_dir}, scratch_.path("first.log"),
                         kubeconfig_path());
  ASSERT_TRUE(eventually(zone_a_cordoned_by_faultline, 30s)) << first.output();

  std::string output;
  int code = faultline(
      "run " + file + " --state-namespace faultline-other --output-dir " + scratch_.output_dir(),
      &output);

  EXPECT_EQ(code, 4) << output;
  EXPECT_NE(output.find("another drill holds the lock"), std::string::npos) << output;
  EXPECT_TRUE(first.running()) << first.output();
  first.signal(SIGTERM);
  EXPECT_EQ(first.wait(60s), 3) << first.output();
  expect_cluster_as_before(before_);
}

TEST_F(LockAndStop, StaleLockFromElsewhere_TakenOverAfterItsLeaseAndOnlyItsRunUndone) {
  // A holder on another machine that stopped renewing (its clock far ahead,
  // so its renewTime looks fresh): run "ghost" cordoned zone-c-1. Another
  // run's cordon on zone-b-1 is not the ghost's to give up.
  auto client = cluster_client();
  chaos::ensure_namespace(client, "faultline");
  std::string lease = scratch_.path("lease.yaml");
  {
    std::ofstream out(lease);
    out << "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: faultline-lock\n"
           "  namespace: faultline\n  annotations:\n    faultline.io/run: ghost\n"
           "    faultline.io/state-namespace: faultline\nspec:\n  holderIdentity: "
           "ghost@elsewhere/0000/1\n"
           "  leaseDurationSeconds: 4\n  renewTime: \"2099-01-01T00:00:00.000000Z\"\n";
  }
  kubectl("apply -f " + lease);
  cordon_as("zone-c-1", "ghost");
  cordon_as("zone-b-1", "other-run");
  extra_cordons_ = {"zone-b-1", "zone-c-1"};
  auto before_takeover = std::chrono::steady_clock::now();
  std::string file = experiment("cordon-briefly",
                                "chaos.cordon_zone(\"zone-a\")\nwait.sleep(\"1s\")\n"),
              out_dir = scratch_.output_dir(), output;

  int code = faultline("run " + file + " --output-dir " + out_dir, &output);

  EXPECT_EQ(code, 0) << output;
  EXPECT_GE(std::chrono::steady_clock::now() - before_takeover, 4s);  // watched a whole lease first
  EXPECT_NE(output.find("took over the stale drill lock of ghost@elsewhere/0000/1"),
            std::string::npos)
      << output;
  EXPECT_FALSE(cordoned_by("zone-c-1", "ghost"));
  EXPECT_TRUE(cordoned_by("zone-b-1", "other-run"));
  EXPECT_FALSE(lock_lease_exists());
}

TEST_F(LockAndStop, LockTakenFromALiveDrill_StopsItAtOnceAndRollsBack) {
  std::string file = experiment("cordon-and-hold", kCordonAndHold), out_dir = scratch_.output_dir();
  FaultlineProcess run({"run", file, "--output-dir", out_dir}, scratch_.path("run.log"),
                       kubeconfig_path());
  ASSERT_TRUE(eventually(zone_a_cordoned_by_faultline, 30s)) << run.output();
  auto taken = std::chrono::steady_clock::now();
  kubectl(
      "patch lease faultline-lock -n faultline --type merge -p "
      "'{\"spec\":{\"holderIdentity\":\"thief\"}}'");

  int code = run.wait(60s);

  EXPECT_EQ(code, 3) << run.output();
  EXPECT_LT(std::chrono::steady_clock::now() - taken, 20s);  // one renewal period + rollback
  json report = read_report(out_dir);
  EXPECT_EQ(report.value("result", ""), "aborted");
  EXPECT_NE(report.value("error", "").find("lost the drill lock"), std::string::npos)
      << report.value("error", "");
  EXPECT_TRUE(report["rollback"].value("complete", false));
  // The thief's lease is left alone.
  EXPECT_EQ(cluster_client().get(res::kLeases, "faultline", "faultline-lock")["spec"].value(
                "holderIdentity", ""),
            "thief");
  kubectl("delete lease faultline-lock -n faultline");
  expect_cluster_as_before(before_);
}

TEST_F(LockAndStop, SigtermDuringABacktrackingPatternMatch_RollsBackWithinTheGracePeriod) {
  std::string file = experiment("cordon-then-backtrack",
                                "chaos.cordon_zone(\"zone-a\")\n"
                                "log.info(\"matching\")\n"
                                "string.find(string.rep(\"a\", 2e4), \".-.-.-.-b\")\n"),
              out_dir = scratch_.output_dir();
  FaultlineProcess run({"run", file, "--output-dir", out_dir}, scratch_.path("run.log"),
                       kubeconfig_path());
  ASSERT_TRUE(eventually([&] { return run.output().find("matching") != std::string::npos; }, 30s))
      << run.output();
  std::this_thread::sleep_for(1s);
  ASSERT_TRUE(run.running()) << run.output();
  auto signalled = std::chrono::steady_clock::now();
  run.signal(SIGTERM);

  int code = run.wait(60s);

  EXPECT_EQ(code, 3) << run.output();
  // 3 s grace for the script, then the rollback and reports.
  auto took = std::chrono::steady_clock::now() - signalled;
  EXPECT_LT(took, 10s);
  std::cout << "SIGTERM to exit: " << std::chrono::duration<double>(took).count() << " s\n";
  json report = read_report(out_dir);
  EXPECT_EQ(report.value("result", ""), "aborted");
  EXPECT_TRUE(report["rollback"].value("complete", false));
  EXPECT_NE(run.output().find("the script did not stop within 3000ms of the stop"),
            std::string::npos)
      << run.output();
  EXPECT_NE(report["log"].dump().find("the script did not stop within"), std::string::npos)
      << report["log"].dump();
  expect_cluster_as_before(before_);
}

TEST_F(LockAndStop, SigtermDuringRecover_StopsBetweenUndosKeepsTheJournalAndReleasesTheLock) {
  // A dead run leaves zone-a cordoned and its journal.
  std::string file = experiment("cordon-and-hold", kCordonAndHold);
  FaultlineProcess dead({"run", file, "--output-dir", scratch_.output_dir()},
                        scratch_.path("dead.log"), kubeconfig_path());
  ASSERT_TRUE(eventually(zone_a_cordoned_by_faultline, 30s)) << dead.output();
  dead.signal(SIGKILL);
  ASSERT_EQ(dead.wait(30s), 128 + SIGKILL);
  ASSERT_EQ(journal_configmaps().size(), 1u);
  // recover, with every uncordon answered 500: it keeps retrying until stopped.
  kube::LoadOptions load;
  load.kubeconfig = kubeconfig_path();
  load.allow_in_cluster = false;
  FaultProxy proxy(kube::load_config(load), [](const ProxiedRequest& r) {
    return r.method == "PATCH" && r.target.rfind("/api/v1/nodes/", 0) == 0 &&
           r.body.find("\"unschedulable\":false") != std::string::npos;
  });
  std::string proxied = proxy.write_kubeconfig(scratch_.path("proxy.kubeconfig"));
  FaultlineProcess recover({"recover"}, scratch_.path("recover.log"), proxied);
  ASSERT_TRUE(
      eventually([&] { return recover.output().find("retrying") != std::string::npos; }, 60s))
      << recover.output();
  auto signalled = std::chrono::steady_clock::now();
  recover.signal(SIGTERM);

  int code = recover.wait(30s);

  EXPECT_EQ(code, 3) << recover.output();
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 10s);
  EXPECT_NE(recover.output().find("recover: stopped by SIGTERM"), std::string::npos)
      << recover.output();
  EXPECT_EQ(journal_configmaps().size(), 1u);  // what is left stays journaled
  EXPECT_FALSE(lock_lease_exists());
  std::string output;
  EXPECT_EQ(faultline("recover", &output), 0) << output;
  expect_cluster_as_before(before_);
}

TEST_F(LockAndStop, ProbeHttp_ZeroTimeoutIsClampedAndOnlyHttpUrlsAreAllowed) {
  // A server that accepts connections (the kernel's backlog) and never answers.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  std::string file = experiment(
                  "probe-timeout",
                  "local r = probe.http{ url = \"" + url +
                      "\", timeout = 0 }\n"
                      "assert(not r.ok, 'a silent server cannot answer')\n"
                      "assert(r.latency_ms < 2000, 'timeout 0 was not clamped: ' .. r.latency_ms)\n"
                      "log.info('silent server: ' .. r.error)\n"
                      "local ok, err = pcall(probe.http, { url = 'file:///etc/hostname' })\n"
                      "assert(not ok)\n"
                      "log.info('file url: ' .. err)\n"),
              out_dir = scratch_.output_dir(), output;

  int code = faultline("run " + file + " --output-dir " + out_dir, &output);
  ::close(fd);

  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("silent server: Timeout was reached"), std::string::npos) << output;
  EXPECT_NE(output.find("probe.http: option \"url\" must be an http:// or https:// URL"),
            std::string::npos)
      << output;
}

TEST_F(LockAndStop, DrainSkipsAnEmptyDirPodWithItsReasonAndLeavesItRunning) {
  std::string manifest = scratch_.path("scratchy.yaml");
  std::ofstream(manifest)
      << "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: scratchy, namespace: shop }\n"
         "spec:\n  replicas: 1\n  selector: { matchLabels: { app: scratchy } }\n  template:\n"
         "    metadata: { labels: { app: scratchy } }\n    spec:\n"
         "      nodeSelector: { topology.kubernetes.io/zone: zone-a }\n"
         // shop enforces the restricted Pod Security Standard.
         "      securityContext: { runAsNonRoot: true, runAsUser: 65535, seccompProfile: { type: "
         "RuntimeDefault } }\n"
         "      containers:\n"
         "        - name: app\n"
         "          image: registry.k8s.io/pause:3.10\n"
         "          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: "
         "[ALL] } }\n"
         "          volumeMounts: [{ name: tmp, mountPath: /tmp }]\n"
         "      volumes: [{ name: tmp, emptyDir: {} }]\n";
  kubectl("apply -f " + manifest);
  scratchy_ = true;
  auto scratchy_uid = [] {
    kube::ListOptions o;
    o.label_selector = "app=scratchy";
    auto pods = cluster_client().list(res::kPods, "shop", o)["items"];
    return pods.size() == 1 && pods[0]["spec"].value("nodeName", "") != ""
               ? pods[0]["metadata"].value("uid", "")
               : std::string();
  };
  ASSERT_TRUE(eventually([&] { return !scratchy_uid().empty(); }, 60s));
  std::string uid = scratchy_uid();
  std::string file = experiment("drain-emptydir",
                                "local r = chaos.drain_zone('zone-a', { timeout = '60s' })\n"
                                "for _, s in ipairs(r.skipped) do log.info('skipped ' .. s.pod .. "
                                "': ' .. s.reason) end\n"),
              output;

  int code = faultline("run " + file + " --output-dir " + scratch_.output_dir(), &output);

  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find(": uses emptyDir (its data would be lost; drain option "
                        "delete_emptydir_data = true evicts it)"),
            std::string::npos)
      << output;
  EXPECT_EQ(scratchy_uid(), uid);  // not evicted
  expect_nodes_as_before(before_);
}

}  // namespace
}  // namespace faultline::testing
