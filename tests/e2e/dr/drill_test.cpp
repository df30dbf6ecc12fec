// runner/dr against two real clusters with real Velero servers on one MinIO
// bucket: the restore drills of issue 15, failures included.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <sstream>
#include <thread>

#include "runner/dr/drill.h"
#include "tests/e2e/cluster_env.h"
#include "tests/e2e/dr/dr_env.h"

namespace faultline::dr {
namespace {

using faultline::testing::deploy_app;
using faultline::testing::expect_regions_clean;
using faultline::testing::kubectl_in;
using faultline::testing::region_client;

struct DrDrill : ::testing::Test {
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  Drill drill{Cluster{"", region_client("a"), ""},
              {Cluster{"region-b", region_client("b"), ""}},
              nullptr,
              options()};
  DrillOptions options() {
    DrillOptions o;
    o.run_id = "e2e";
    o.clock = [this] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    return o;
  }
  std::vector<std::string> namespaces;

  void app(const std::string& ns, const std::string& secret = "s3cr3t-e2e-value") {
    namespaces.push_back(ns);
    deploy_app(ns, secret);
  }
  void TearDown() override {
    EXPECT_TRUE(drill.rollback(std::chrono::seconds(120)).empty());
    for (const std::string& ns : namespaces) {
      kubectl_in("a", "delete namespace " + ns + " --ignore-not-found --wait=true --timeout=120s");
    }
    expect_regions_clean(namespaces);
  }
};

TEST_F(DrDrill, RegionFailoverRestoresInTheOtherClusterAndMeasuresRtoRpo) {
  app("dr-failover");
  const json b = drill.backup({{"namespaces", {"dr-failover"}}, {"wait", "2m"}});
  ASSERT_TRUE(b["ok"]) << b.dump();
  EXPECT_GT(b["items"].get<int>(), 4);
  drill.disaster({{"label", "region-a lost"}});
  const json r = drill.restore({{"backup", b}, {"cluster", "region-b"}, {"wait", "2m"}});
  EXPECT_TRUE(r["ok"]) << r.dump();
  EXPECT_TRUE(r["ready"]);
  EXPECT_TRUE(r["verified"]);
  EXPECT_TRUE(r["mismatches"].empty()) << r.dump();
  const json rec = drill.record();
  ASSERT_TRUE(rec.contains("rto_s") && rec.contains("rpo_s")) << rec.dump();
  EXPECT_GT(rec["rto_s"].get<double>(), 0);
  EXPECT_GE(rec["rpo_s"].get<double>(), 0);
  EXPECT_LT(rec["rpo_s"].get<double>(), 300);
  // The restored copy really is in region-b, and region-a's source is untouched.
  EXPECT_NE(kubectl_in("b", "get deployment api -n dr-failover -o name"), "");
  EXPECT_NE(kubectl_in("a", "get deployment api -n dr-failover -o name"), "");
  std::cout << "RTO " << rec["rto_s"] << " s, RPO " << rec["rpo_s"] << " s\n";
}

TEST_F(DrDrill, NamespaceLossRestoresIntoANewNamespaceAndPutsTheSourceBack) {
  app("dr-loss");
  const json b = drill.backup({{"namespaces", "dr-loss"}});
  ASSERT_TRUE(b["ok"]) << b.dump();
  drill.disaster({{"delete_namespace", "dr-loss"}});
  EXPECT_EQ(kubectl_in("a", "get namespace dr-loss --ignore-not-found -o name"), "");
  namespaces.push_back("dr-loss-restored");
  const json r = drill.restore({{"backup", b}, {"into_namespace", "dr-loss-restored"}});
  EXPECT_TRUE(r["ok"]) << r.dump();
  EXPECT_EQ(r["from_namespace"], "dr-loss");
  EXPECT_TRUE(drill.rollback(std::chrono::seconds(120)).empty());
  // Rollback put the source back in place, with its data.
  EXPECT_NE(kubectl_in("a", "get deployment api -n dr-loss -o name"), "");
  EXPECT_EQ(kubectl_in("a", "get configmap settings -n dr-loss -o jsonpath={.data.limit}"), "42");
  EXPECT_EQ(kubectl_in("a", "get namespace dr-loss-restored --ignore-not-found -o name"), "");
}

TEST_F(DrDrill, BackupThatExcludedSecretsFailsTheDataCheck) {
  app("dr-exclude");
  const json b = drill.backup({{"namespaces", "dr-exclude"}, {"exclude", {"secrets"}}});
  ASSERT_TRUE(b["ok"]) << b.dump();
  namespaces.push_back("dr-exclude-r");
  const json r = drill.restore({{"backup", b}, {"into_namespace", "dr-exclude-r"}});
  EXPECT_FALSE(r["ok"]);
  EXPECT_EQ(r["reason"], "data check failed: Secret/db missing") << r.dump();
}

TEST_F(DrDrill, EmptiedBucketFailsTheRestoreWithVelerosReason) {
  app("dr-bucket");
  const json b = drill.backup({{"namespaces", "dr-bucket"}});
  ASSERT_TRUE(b["ok"]) << b.dump();
  std::string out;
  ASSERT_EQ(
      faultline::testing::run(faultline::testing::cluster_script("velero/bucket.sh") + " --state " +
                                  faultline::testing::dr_state_dir() + "/a empty",
                              &out),
      0)
      << out;
  namespaces.push_back("dr-bucket-r");
  const json r = drill.restore({{"backup", b}, {"into_namespace", "dr-bucket-r"}, {"wait", "2m"}});
  EXPECT_FALSE(r["ok"]);
  EXPECT_NE(r["reason"].get<std::string>().rfind("restore ", 0), std::string::npos) << r.dump();
  std::cout << "reason: " << r["reason"] << "\n";
}

TEST_F(DrDrill, SecretChangedByTheRestoreFailsTheDataCheckWithoutItsValue) {
  const std::string value = "do-not-print-me-7f3a";
  app("dr-secret", value);
  const json b = drill.backup({{"namespaces", "dr-secret"}});
  ASSERT_TRUE(b["ok"]) << b.dump();
  // Velero's resource modifiers rewrite the Secret on restore (a real
  // restore that does not give back the data that was backed up).
  kubectl_in("b", "apply", R"(apiVersion: v1
kind: ConfigMap
metadata: { name: faultline-e2e-modifier, namespace: velero }
data:
  rules.yaml: |
    version: v1
    resourceModifierRules:
    - conditions: { groupResource: secrets, resourceNameRegex: "^db$" }
      patches:
      - { operation: replace, path: "/data/password", value: "b3RoZXI=" }
)");
  const json r = drill.restore(
      {{"backup", b}, {"cluster", "region-b"}, {"resource_modifiers", "faultline-e2e-modifier"}});
  kubectl_in("b", "delete configmap faultline-e2e-modifier -n velero");
  EXPECT_FALSE(r["ok"]);
  EXPECT_EQ(r["reason"], "data check failed: Secret/db data differs") << r.dump();
  const std::string everything = r.dump() + drill.record().dump();
  EXPECT_EQ(everything.find(value), std::string::npos);
  EXPECT_EQ(everything.find("ZG8tbm90LXByaW50LW1lLTdmM2E="), std::string::npos);  // base64 of it
}

// dr.latest_backup against a real Velero Schedule. Velero backs a Schedule
// up when it is due at a reconcile, and reconciles on a spec change (or
// once a minute): "@every 1s" and two spec changes make two backups, a
// second apart; the drill must pick the newer by its schedule-name label. A
// schedule with no backup is one line.
TEST_F(DrDrill, LatestBackupPicksTheNewestCompletedBackupOfARealSchedule) {
  using std::chrono::steady_clock;
  app("dr-schedule");
  kubectl_in("a", "apply", R"(apiVersion: velero.io/v1
kind: Schedule
metadata: { name: faultline-e2e-schedule, namespace: velero }
spec:
  schedule: "@every 1s"
  template: { includedNamespaces: [dr-schedule], snapshotVolumes: false, ttl: 1h0m0s }
)");
  auto completed = [] {
    std::istringstream names(kubectl_in(
        "a",
        "get backups.velero.io -n velero -l velero.io/schedule-name=faultline-e2e-schedule -o "
        "'jsonpath={.items[?(@.status.phase==\"Completed\")].metadata.name}'"));
    std::vector<std::string> out;
    for (std::string n; names >> n;) out.push_back(n);
    std::sort(out.begin(), out.end());  // <schedule>-<UTC time to the second>
    return out;
  };
  std::vector<std::string> made;
  for (const char* ttl : {"1h0m1s", "1h0m2s"}) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // due again, a new name
    kubectl_in("a", std::string("patch schedules.velero.io faultline-e2e-schedule -n velero ") +
                        "--type merge -p '{\"spec\":{\"template\":{\"ttl\":\"" + ttl + "\"}}}'");
    const auto until = steady_clock::now() + std::chrono::seconds(60);
    const size_t want = made.size() + 1;
    while ((made = completed()).size() < want && steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  kubectl_in("a", "delete schedules.velero.io faultline-e2e-schedule -n velero");
  // Every backup of the schedule by phase. One it started just before its
  // deletion is still New or InProgress: waited for here, and deleted below
  // with the rest, whatever its phase (a leftover backup fails the later DR
  // tests' "nothing left behind" checks).
  auto phases = [] {
    std::istringstream lines(kubectl_in(
        "a",
        "get backups.velero.io -n velero -l velero.io/schedule-name=faultline-e2e-schedule -o "
        "'jsonpath={range .items[*]}{.metadata.name}={.status.phase}{\"\\n\"}{end}'"));
    std::map<std::string, std::string> out;
    for (std::string line; std::getline(lines, line);)
      if (auto eq = line.find('='); eq != std::string::npos)
        out[line.substr(0, eq)] = line.substr(eq + 1);
    return out;
  };
  auto settled = [&] {
    for (const auto& [name, phase] : phases())
      if (phase != "Completed" && phase != "Failed" && phase != "PartiallyFailed" &&
          phase != "FailedValidation")
        return false;
    return true;
  };
  for (const auto until = steady_clock::now() + std::chrono::seconds(60);
       !settled() && steady_clock::now() < until;)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  made = completed();  // and one the minute's reconcile may have added
  ASSERT_GE(made.size(), 2u) << "the Schedule did not make two Completed backups within 60 s each";

  const json b = drill.latest_backup({{"schedule", "faultline-e2e-schedule"}});
  EXPECT_EQ(b["name"], made.back()) << b.dump();
  EXPECT_TRUE(b["ok"]);
  EXPECT_GT(b["completed"].get<double>(), 0);
  try {
    drill.latest_backup({{"schedule", "faultline-e2e-none"}});
    ADD_FAILURE() << "no error for a schedule without backups";
  } catch (const DrError& e) {
    EXPECT_EQ(std::string(e.what()),
              "dr.latest_backup: schedule 'faultline-e2e-none' has no Completed backup");
  }
  // Not the drill's to remove (it did not make them): the test's.
  for (const auto& [name, phase] : phases()) {
    EXPECT_TRUE(Velero(region_client("a")).delete_backup(name, std::chrono::seconds(60)))
        << name << " (" << phase << ")";
    kubectl_in("b", "delete backups.velero.io " + name + " -n velero --ignore-not-found");
  }
}

}  // namespace
}  // namespace faultline::dr
