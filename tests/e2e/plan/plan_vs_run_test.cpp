// `faultline plan` against the real run on the same cluster: what the model
// predicts (placement, Pending pods and why, minimum ready endpoints, drain
// time) is what the scheduler and the run then do.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <thread>

#include "tests/e2e/cluster_env.h"
#include "tests/e2e/plan/plan_env.h"

namespace faultline::testing {
namespace {

using namespace std::chrono_literals;

// N replicas of app=<name>, each asking `cpu`, plus a Service; `extra` is
// spliced into the pod spec (affinity, spread).
std::string deployment(const std::string& name, int replicas, const std::string& cpu,
                       const std::string& extra = "") {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: " + name +
         ", namespace: plan-e2e }\nspec:\n  replicas: " + std::to_string(replicas) +
         "\n  selector: { matchLabels: { app: " + name +
         " } }\n  template:\n    metadata: { labels: { app: " + name +
         " } }\n    spec:\n      containers:\n        - { name: c, image: "
         "registry.k8s.io/pause:3.10, resources: { requests: { cpu: \"" +
         cpu + "\" } } }\n" + extra +
         "---\napiVersion: v1\nkind: Service\nmetadata: { name: " + name +
         ", namespace: plan-e2e }\nspec:\n  selector: { app: " + name +
         " }\n  ports: [{ port: 80, targetPort: 8080 }]\n";
}

// zone-a lost for 8 s; every replica must be Ready elsewhere within 10 s.
std::string held_outage(Scratch& scratch, const std::string& app) {
  return plan_experiment(scratch, app, "zone_outage.lua", "{ zone: zone-a, within: 10s, hold: 8s }",
                         {"{ replacement: { within: 10s } }"});
}

// deploy_demo waits for the pods; the plan counts ready endpoints from the
// Service's EndpointSlices, which the EndpointSlice controller updates a
// moment later (a run of the e2e label planned 5 of 6 right after a previous
// drill's replacements turned Ready).
void wait_demo_endpoints_ready() {
  auto client = cluster_client();
  kube::ListOptions o;
  o.label_selector = "kubernetes.io/service-name=checkout";
  int ready = 0;
  bool settled = eventually(
      [&] {
        ready = 0;
        json slices = client.list(kube::resources::kEndpointSlices, "shop", o);
        for (const auto& slice : slices["items"])
          for (const auto& e : slice.value("endpoints", json::array()))
            ready += e.value("conditions", json::object()).value("ready", false) ? 1 : 0;
        return ready == 6;
      },
      30s);
  ASSERT_TRUE(settled) << "shop/checkout has " << ready << " ready endpoints, not 6";
}

// Runs the experiment in the background; while its fault holds, `during` runs.
int run_with(const std::string& file, Scratch& scratch, std::string* output_dir,
             const std::function<void()>& during = {}) {
  *output_dir = scratch.output_dir();
  FaultlineProcess p({"run", file, "--output-dir", *output_dir}, scratch.path("run.log"),
                     kubeconfig_path());
  if (during) during();
  int code = p.wait(180s);
  EXPECT_NE(code, -1) << "the run did not end:\n" << p.output();
  if (::testing::Test::HasFailure()) std::cerr << p.output();
  return code;
}

TEST(PlanVsRun, ZoneOutageOfAnAppThatFitsPassesAndMinReadyEndpointsMatch) {
  fresh_plan_namespace();
  fresh_demo();
  wait_demo_endpoints_ready();
  auto before = snapshot_nodes();
  Scratch scratch;
  ExperimentSpec spec;
  spec.slos = {"{ ready_endpoints: { service: checkout, min: 2 } }",
               "{ replacement: { within: 60s, max_skew: 1 } }"};
  std::string file = scratch.experiment("outage", spec.yaml());
  int code = 0;
  json plan = plan_json(file, &code);
  ASSERT_TRUE(plan.is_object());
  EXPECT_EQ(code, 0) << plan.dump(2);
  EXPECT_EQ(plan["verdict"], "pass") << plan.dump(2);
  EXPECT_EQ(plan["ready_endpoints"]["now"], 6);
  EXPECT_EQ(plan["ready_endpoints"]["min"], 4);
  EXPECT_TRUE(plan["pending"].empty()) << plan.dump(2);
  expect_nodes_as_before(before);  // plan touched nothing

  std::string out;
  EXPECT_EQ(run_with(file, scratch, &out), 0);
  json report = read_report(out);
  const json* ready = find_slo(report, "ready_endpoints");
  ASSERT_NE(ready, nullptr);
  EXPECT_TRUE((*ready)["passed"].get<bool>());
  EXPECT_EQ((*ready)["measured"], plan["ready_endpoints"]["min"])
      << "predicted min ready endpoints vs measured";
  // The run embeds its own prediction and grades it.
  ASSERT_TRUE(report.contains("prediction")) << report.dump(2).substr(0, 2000);
  EXPECT_EQ(report["prediction"]["ready_endpoints"]["min"], 4);
  EXPECT_EQ(report["prediction"]["verdict"], "pass");
  std::ifstream md_file(out + "/summary.md");
  std::string md((std::istreambuf_iterator<char>(md_file)), std::istreambuf_iterator<char>());
  EXPECT_NE(md.find("Predicted vs measured"), std::string::npos) << md;
  EXPECT_EQ(md.find("MISMATCH"), std::string::npos) << md;
  expect_cluster_as_before(before);
}

TEST(PlanVsRun, SurvivingZonesShortOfCpuLeaveExactlyThePredictedPodsPending) {
  fresh_plan_namespace();
  // One 5-CPU pod per 8-CPU node: the 3 of zone-a have nowhere to go.
  apply(deployment("big", 9, "5"));
  wait_ready("big", 9);
  auto before = snapshot_nodes();
  Scratch scratch;
  std::string file = held_outage(scratch, "big");
  int code = 0;
  json plan = plan_json(file, &code);
  ASSERT_TRUE(plan.is_object());
  EXPECT_EQ(code, 1) << plan.dump(2);
  ASSERT_EQ(plan["pending"].size(), 3u) << plan.dump(2);
  std::string predicted = plan["pending"][0]["reason"];
  EXPECT_EQ(predicted,
            "0/9 nodes are available: 3 node(s) were unschedulable, 6 Insufficient cpu.");
  for (const auto& p : plan["pending"]) {
    EXPECT_EQ(p["workload"], "Deployment plan-e2e/big");
    EXPECT_EQ(p["reason"], predicted);
  }
  EXPECT_EQ(predicted_slo(plan, "replacement")["verdict"], "fail");

  std::vector<std::string> real;
  std::string out;
  int run_code = run_with(file, scratch, &out, [&] {
    eventually([&] { return (real = pending_reasons("big")).size() == 3; }, 30s);
  });
  ASSERT_EQ(real.size(), 3u) << "the scheduler left " << real.size() << " pods Pending";
  for (const auto& r : real) EXPECT_EQ(r, predicted) << "the scheduler's reason vs the plan's";
  EXPECT_EQ(run_code, 1);
  json report = read_report(out);
  const json* repl = find_slo(report, "replacement");
  ASSERT_NE(repl, nullptr);
  EXPECT_FALSE((*repl)["passed"].get<bool>());
  EXPECT_EQ(report["prediction"]["slos"][0]["verdict"], "fail");
  expect_cluster_as_before(before);
  kubectl("delete deployment big -n plan-e2e");
}

TEST(PlanVsRun, TopologySpreadDoNotScheduleOnUnevenZonesLeavesThePredictedPending) {
  fresh_plan_namespace();
  // zone-c offers one node only; one 5-CPU pod per node; maxSkew 1 over
  // zones. 5 replicas land 2/2/1; losing zone-a, zone-b may hold only one
  // more than zone-c's 1, and zone-b holds 2 already: both displaced stay Pending.
  std::string extra =
      "      affinity:\n        nodeAffinity:\n          "
      "requiredDuringSchedulingIgnoredDuringExecution:\n"
      "            nodeSelectorTerms:\n              - matchExpressions:\n"
      "                  - { key: kubernetes.io/hostname, operator: NotIn, values: [zone-c-2, "
      "zone-c-3] }\n"
      "      topologySpreadConstraints:\n"
      "        - { maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: "
      "DoNotSchedule,"
      " nodeTaintsPolicy: Honor, labelSelector: { matchLabels: { app: spread } } }\n";
  apply(deployment("spread", 5, "5", extra));
  wait_ready("spread", 5);
  auto before = snapshot_nodes();
  Scratch scratch;
  std::string file = held_outage(scratch, "spread");
  json plan = plan_json(file);
  ASSERT_TRUE(plan.is_object());
  int displaced = static_cast<int>(plan["displaced"].size());
  std::vector<std::string> predicted;
  for (const auto& p : plan["pending"]) predicted.push_back(p["reason"]);
  EXPECT_EQ(displaced, 2) << plan.dump(2);
  ASSERT_EQ(predicted.size(), 2u) << plan.dump(2);

  std::vector<std::string> real;
  std::string out;
  run_with(file, scratch, &out, [&] {
    eventually([&] { return (real = pending_reasons("spread")).size() == predicted.size(); }, 30s);
    std::this_thread::sleep_for(2s);  // and no more than predicted
    real = pending_reasons("spread");
  });
  std::sort(real.begin(), real.end());
  std::sort(predicted.begin(), predicted.end());
  EXPECT_EQ(real, predicted) << "the scheduler's Pending pods vs the plan's";
  expect_cluster_as_before(before);
  kubectl("delete deployment spread -n plan-e2e");
}

TEST(PlanVsRun, StatefulSetWithZonalVolumesCannotMove) {
  fresh_plan_namespace();
  // Pre-bound PVs pinned to a zone each (no provisioner needed).
  std::string y;
  const char* zones[] = {"zone-a", "zone-b", "zone-c"};
  for (int i = 0; i < 3; ++i) {
    std::string n = std::to_string(i);
    y += "apiVersion: v1\nkind: PersistentVolume\nmetadata: { name: plan-e2e-db-" + n +
         ", labels: { plan-e2e: \"true\" } }\nspec:\n  capacity: { storage: 1Gi }\n  accessModes: "
         "[ReadWriteOnce]\n"
         "  storageClassName: zonal\n  hostPath: { path: /tmp/plan-e2e-db-" +
         n +
         " }\n"
         "  claimRef: { namespace: plan-e2e, name: data-db-" +
         n +
         " }\n"
         "  nodeAffinity:\n    required:\n      nodeSelectorTerms:\n        - matchExpressions:\n"
         "            - { key: topology.kubernetes.io/zone, operator: In, values: [" +
         zones[i] +
         "] }\n---\n"
         "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: { name: data-db-" +
         n +
         ", namespace: plan-e2e }\nspec:\n  accessModes: [ReadWriteOnce]\n  storageClassName: "
         "zonal\n"
         "  volumeName: plan-e2e-db-" +
         n + "\n  resources: { requests: { storage: 1Gi } }\n---\n";
  }
  y += "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: { name: db, namespace: plan-e2e "
       "}\nspec:\n  replicas: 3\n"
       "  serviceName: db\n  podManagementPolicy: Parallel\n  selector: { matchLabels: { app: db } "
       "}\n"
       "  template:\n    metadata: { labels: { app: db } }\n    spec:\n"
       "      containers: [{ name: c, image: registry.k8s.io/pause:3.10, volumeMounts: [{ name: "
       "data, mountPath: /data }] }]\n"
       "  volumeClaimTemplates:\n    - metadata: { name: data }\n"
       "      spec: { accessModes: [ReadWriteOnce], storageClassName: zonal, resources: { "
       "requests: { storage: 1Gi } } }\n"
       "---\napiVersion: v1\nkind: Service\nmetadata: { name: db, namespace: plan-e2e }\n"
       "spec: { clusterIP: None, selector: { app: db }, ports: [{ port: 80 }] }\n";
  apply(y);
  wait_ready("db", 3);
  auto before = snapshot_nodes();
  Scratch scratch;
  std::string file = held_outage(scratch, "db");
  json plan = plan_json(file);
  ASSERT_TRUE(plan.is_object());
  ASSERT_EQ(plan["pending"].size(), 1u) << plan.dump(2);
  EXPECT_EQ(plan["pending"][0]["pod"], "plan-e2e/db-0");
  EXPECT_EQ(plan["pending"][0]["workload"], "StatefulSet plan-e2e/db");
  std::string predicted = plan["pending"][0]["reason"];
  EXPECT_EQ(predicted,
            "0/9 nodes are available: 3 node(s) were unschedulable, 6 node(s) didn't match "
            "PersistentVolume's node "
            "affinity.");

  std::vector<std::string> real;
  std::string out;
  run_with(file, scratch, &out,
           [&] { eventually([&] { return (real = pending_reasons("db")).size() == 1; }, 30s); });
  ASSERT_EQ(real.size(), 1u);
  EXPECT_EQ(real[0], predicted);
  expect_cluster_as_before(before);
  kubectl("delete statefulset db -n plan-e2e");
}

TEST(PlanVsRun, DrainOfAPdbBoundWorkloadTakesBetweenTheBoundAndTwiceIt) {
  fresh_plan_namespace();
  fresh_demo();
  set_demo_pdb_min_available(5, 1);  // one eviction at a time: 2 waves for zone-a's 2 pods
  wait_demo_endpoints_ready();
  auto before = snapshot_nodes();
  Scratch scratch;
  ExperimentSpec spec;
  spec.script = "zone_drain.lua";
  spec.params = "{ zone: zone-a, timeout: 60s, within: 60s }";
  spec.slos = {"{ ready_endpoints: { service: checkout, min: 4 } }",
               "{ replacement: { within: 60s } }", "{ pdb: { name: checkout } }"};
  std::string file = scratch.experiment("drain", spec.yaml());
  json plan = plan_json(file);
  ASSERT_TRUE(plan.is_object());
  ASSERT_EQ(plan["pdbs"].size(), 1u);
  EXPECT_EQ(plan["pdbs"][0]["drain_waves"], 2) << plan.dump(2);
  ASSERT_TRUE(plan["time"]["drain_lower_bound_s"].is_number()) << plan.dump(2);
  double bound = plan["time"]["drain_lower_bound_s"];
  EXPECT_EQ(plan["ready_endpoints"]["min"], 5);

  std::string out;
  EXPECT_EQ(run_with(file, scratch, &out), 0);
  json report = read_report(out);
  const json* repl = find_slo(report, "replacement");
  ASSERT_NE(repl, nullptr);
  ASSERT_TRUE((*repl)["measured"].is_number()) << repl->dump(2);
  double measured = (*repl)["measured"];  // drain start → every replica Ready off zone-a
  std::cout << "[ measure  ] drain lower bound " << bound << " s, measured " << measured << " s\n";
  EXPECT_LE(bound, measured + 1e-9);
  EXPECT_LE(measured, 2 * bound);
  const json* ready = find_slo(report, "ready_endpoints");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ((*ready)["measured"], 5) << "predicted min ready endpoints vs measured";
  set_demo_pdb_min_available(4, 2);
  expect_cluster_as_before(before);
}

}  // namespace
}  // namespace faultline::testing
