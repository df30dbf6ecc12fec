// Guards and fault outcomes against the real API server, for what a fake
// cannot show: the taint manager evicting a bystander, a taint the operator
// set with faultline's own key, a zone only partly failed, and a journal that
// can no longer be written once everything is restored.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "runner/chaos/journal.h"
#include "runner/kube/config.h"
#include "tests/e2e/cluster_env.h"
#include "tests/e2e/experiments/experiment_env.h"
#include "tests/e2e/experiments/fault_proxy.h"

namespace faultline::testing {
namespace {

using namespace std::chrono_literals;
namespace res = kube::resources;

const char* kFailZoneA = "chaos.fail_zone(\"zone-a\")\nwait.sleep(\"2s\")\n";

bool pod_exists(const std::string& ns, const std::string& name) {
  return kubectl("get pod " + name + " -n " + ns + " --ignore-not-found -o name").find(name) !=
         std::string::npos;
}

std::vector<json> taints_of(const std::string& node) {
  auto n = cluster_client().get(res::kNodes, "", node);
  return n["spec"].value("taints", json::array()).get<std::vector<json>>();
}

class Guards : public ::testing::Test {
 protected:
  void SetUp() override {
    fresh_demo();
    before_ = snapshot_nodes();
  }
  void TearDown() override {
    kubectl("delete namespace bystanders --ignore-not-found --wait=false");
    if (operator_taint_)
      kubectl("taint node zone-a-1 " + std::string(chaos::kFailureTaintKey) +
              ":NoSchedule- || true");
    if (!journal_configmaps().empty() || lock_lease_exists()) {
      kubectl("delete lease faultline-lock -n faultline --ignore-not-found");
      std::string out;
      faultline("recover", &out);
    }
  }

  std::string fail_zone_experiment(const std::string& guards) {
    scratch_.script("fail_zone_a.lua", kFailZoneA);
    ExperimentSpec spec;
    spec.script = "fail_zone_a.lua";
    spec.params = "";
    spec.guards = guards;
    return scratch_.experiment("fail-zone-a", spec.yaml());
  }

  // A pod of another team on zone-a-1, bound there directly (kwok runs it).
  void start_bystander() {
    kubectl("create namespace bystanders");
    kubectl(
        "run bystander -n bystanders --image=registry.local/none:1 --restart=Never "
        "--overrides='{\"spec\":{\"nodeName\":\"zone-a-1\"}}'");
    ASSERT_TRUE(pod_exists("bystanders", "bystander"));
  }

  Scratch scratch_;
  NodeSnapshot before_;
  bool operator_taint_ = false;
};

// fail_zone's NoExecute taint would evict a pod outside guards.namespaces:
// refused before any taint, the pod untouched; accepted by name it runs and
// the report lists the collateral.
TEST_F(Guards, FailZoneCollateral_RefusedBeforeAnyTaintAndListedWhenAccepted) {
  start_bystander();
  std::string out_dir = scratch_.output_dir(), output;
  int code = faultline("run " + fail_zone_experiment("{ max_zones: 1, namespaces: [shop] }") +
                           " --output-dir " + out_dir,
                       &output);
  EXPECT_NE(code, 0) << output;
  EXPECT_NE(output.find("would evict 1 pod(s) outside guards.namespaces (bystanders/bystander); "
                        "set guards.allow_collateral: true to accept that"),
            std::string::npos)
      << output;
  EXPECT_TRUE(read_report(out_dir).value("faults", json::array()).empty());
  EXPECT_TRUE(pod_exists("bystanders", "bystander"));
  expect_cluster_as_before(before_);

  std::string accepted_dir = scratch_.output_dir();
  code = faultline(
      "run " +
          fail_zone_experiment("{ max_zones: 1, namespaces: [shop], allow_collateral: true }") +
          " --output-dir " + accepted_dir,
      &output);
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("collateral eviction of bystanders/bystander"), std::string::npos)
      << output;
  EXPECT_TRUE(eventually([] { return !pod_exists("bystanders", "bystander"); }, 30s))
      << "the taint manager did not evict the bystander";
  expect_cluster_as_before(before_);
}

// Someone's faultline.io/zone-failure:NoSchedule on zone-a-1 is not
// faultline's NoExecute taint: the zone is still failed there (key and
// effect), and rollback removes only what faultline added.
TEST_F(Guards, OperatorTaintWithOurKeyButAnotherEffect_IsNeitherSkippedNorRemoved) {
  kubectl("taint node zone-a-1 " + std::string(chaos::kFailureTaintKey) + "=operator:NoSchedule");
  operator_taint_ = true;
  before_ = snapshot_nodes();
  std::string out_dir = scratch_.output_dir(), output;
  int code = faultline("run " + fail_zone_experiment("{ max_zones: 1, namespaces: [shop] }") +
                           " --output-dir " + out_dir,
                       &output);
  EXPECT_EQ(code, 0) << output;
  json report = read_report(out_dir);
  int tainted = 0;
  for (const auto& f : report.value("faults", json::array())) {
    if (f.value("action", "") == "taint_node") {
      ++tainted;
      EXPECT_EQ(f.value("status", ""), "rolled_back") << f.dump();
    }
  }
  EXPECT_EQ(tainted, 3) << report["faults"].dump(2);  // zone-a-1 included
  auto taints = taints_of("zone-a-1");
  ASSERT_EQ(taints.size(), 1u) << json(taints).dump();
  EXPECT_EQ(taints[0].value("effect", ""), "NoSchedule");
  EXPECT_EQ(taints[0].value("value", ""), "operator");
  // As before: the operator's taint is still there (so not expect_cluster_clean,
  // which refuses any taint with faultline's key), no journal, no lock.
  expect_nodes_as_before(before_);
  EXPECT_TRUE(journal_configmaps().empty());
  EXPECT_FALSE(lock_lease_exists());
}

// One of zone-a's nodes cannot be tainted (the API server answers 500 to
// it, every time): the zone is only partly failed, a failed fault, never a
// pass; what was tainted is rolled back.
TEST_F(Guards, PartlyFailedZone_IsAFailedFaultNotAPass) {
  kube::LoadOptions load;
  load.kubeconfig = kubeconfig_path();
  load.allow_in_cluster = false;
  FaultProxy proxy(kube::load_config(load), [](const ProxiedRequest& r) {
    return r.method == "PATCH" && r.target.rfind("/api/v1/nodes/zone-a-2", 0) == 0 &&
           r.body.find("NoExecute") != std::string::npos;
  });
  std::string kubeconfig = proxy.write_kubeconfig(scratch_.path("proxy.kubeconfig"));
  std::string out_dir = scratch_.output_dir();
  FaultlineProcess run({"run", fail_zone_experiment("{ max_zones: 1, namespaces: [shop] }"),
                        "--output-dir", out_dir},
                       scratch_.path("run.log"), kubeconfig);
  int code = run.wait(300s);
  EXPECT_NE(code, 0) << run.output();
  EXPECT_NE(code, 5) << run.output();  // nothing is left: rollback is complete
  EXPECT_GT(proxy.injected(), 0);
  json report = read_report(out_dir);
  EXPECT_NE(report.value("result", ""), "passed") << report.dump(2);
  EXPECT_TRUE(report["rollback"].value("complete", false)) << report["rollback"].dump();
  expect_cluster_as_before(before_);
}

// Once every fault is undone, a journal that can no longer be written (its
// updates and its deletion answered 500) leaves nothing to undo: a warning,
// exit 0, not 5 ("rollback incomplete" would send an operator to recover a
// cluster that is whole).
TEST_F(Guards, JournalUnwritableAfterEverythingIsRestored_ExitsZeroNotFive) {
  std::atomic<bool> restoring{false};
  kube::LoadOptions load;
  load.kubeconfig = kubeconfig_path();
  load.allow_in_cluster = false;
  FaultProxy proxy(kube::load_config(load), [&](const ProxiedRequest& r) {
    if (r.method == "PATCH" && r.target.rfind("/api/v1/nodes/", 0) == 0 &&
        r.body.find("\"unschedulable\":false") != std::string::npos)
      restoring = true;
    const bool journal = r.target.find("/configmaps/faultline-journal-") != std::string::npos;
    return restoring && journal && (r.method == "PUT" || r.method == "DELETE");
  });
  std::string kubeconfig = proxy.write_kubeconfig(scratch_.path("proxy.kubeconfig"));
  scratch_.script("cordon_and_hold.lua", "chaos.cordon_zone(\"zone-a\")\nwait.sleep(\"1s\")\n");
  ExperimentSpec spec;
  spec.script = "cordon_and_hold.lua";
  spec.params = "";
  std::string out_dir = scratch_.output_dir();
  FaultlineProcess run(
      {"run", scratch_.experiment("cordon-and-hold", spec.yaml()), "--output-dir", out_dir},
      scratch_.path("run.log"), kubeconfig);
  int code = run.wait(300s);
  EXPECT_EQ(code, 0) << run.output();
  EXPECT_GT(proxy.injected(), 0) << run.output();
  EXPECT_NE(run.output().find("deleting the journal failed (nothing in it is left to undo"),
            std::string::npos)
      << run.output();
  json report = read_report(out_dir);
  EXPECT_EQ(report.value("result", ""), "passed") << report.value("error", "");
  EXPECT_TRUE(report["rollback"].value("complete", false)) << report["rollback"].dump();
  expect_nodes_as_before(before_);
  // The stale journal names only undone entries: recover has nothing to do.
  std::string out;
  EXPECT_EQ(faultline("recover", &out), 0) << out;
  expect_cluster_as_before(before_);
}

}  // namespace
}  // namespace faultline::testing
