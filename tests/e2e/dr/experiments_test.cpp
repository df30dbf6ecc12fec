// The shipped restore drills through the CLI (faultline run) on the two
// regions of the `dr` fixture, with the demo app (manifests/demo) in
// region-a; and the refusals before anything is touched.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/e2e/cluster_env.h"
#include "tests/e2e/dr/dr_env.h"

namespace faultline::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct DrExperiments : ::testing::Test {
  std::string out =
      dr_state_dir() + "/out-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();

  void SetUp() override {
    kubectl_in("a", "apply -k " + source_dir() + "/manifests/demo");
    kubectl_in("a", "rollout status deployment/checkout -n shop --timeout=120s");
  }
  void TearDown() override {
    kubectl_in("a", "delete namespace shop --ignore-not-found --wait=true --timeout=120s");
    fs::remove_all(out);
  }
  int run_cli(const std::string& experiment, std::string* output, const std::string& extra = "") {
    return run(faultline_binary() + " run " + experiment + " --kubeconfig " + dr_kubeconfig() +
                   " --context region-a --no-progress --scripts " + source_dir() +
                   "/lua-scripts --output-dir " + out + " " + extra,
               output);
  }
  json report() {
    std::ifstream in(out + "/report.json");
    return json::parse(in);
  }
  void expect_passed(const json& r) {
    EXPECT_EQ(r.value("result", ""), "passed") << r.value("error", "");
    EXPECT_TRUE(r["rollback"].value("complete", false)) << r["rollback"].dump();
    for (const auto& s : r.value("slos", json::array()))
      EXPECT_TRUE(s.value("passed", false)) << s.dump();
    ASSERT_TRUE(r.contains("dr")) << r.dump();
    EXPECT_TRUE(r["dr"].contains("rto_s") && r["dr"].contains("rpo_s")) << r["dr"].dump();
    std::cout << r.value("experiment", "") << ": RTO " << r["dr"].value("rto_s", -1.0) << " s, RPO "
              << r["dr"].value("rpo_s", -1.0) << " s\n";
  }
  // A copy of a shipped experiment with one line replaced.
  std::string variant(const std::string& file, const std::string& from, const std::string& to) {
    std::ifstream in(source_dir() + "/experiments/" + file);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    fs::create_directories(dr_state_dir() + "/variants");
    const std::string path = dr_state_dir() + "/variants/" + file;
    std::ofstream(path) << text;
    return path;
  }
  void expect_untouched() {
    for (const char* r : {"a", "b"}) {
      EXPECT_EQ(kubectl_in(r, "get backups.velero.io,restores.velero.io -A -o name"), "");
      EXPECT_EQ(kubectl_in(r,
                           "get configmaps,leases -n faultline -l "
                           "app.kubernetes.io/managed-by=faultline -o name --ignore-not-found"),
                "");
    }
    EXPECT_EQ(kubectl_in("b", "get namespace shop --ignore-not-found -o name"), "");
  }
};

TEST_F(DrExperiments, RestoreDrill_RestoresIntoANewNamespaceAndPutsShopBack) {
  std::string output;
  EXPECT_EQ(run_cli(source_dir() + "/experiments/restore-drill.yaml", &output), 0) << output;
  const json r = report();
  expect_passed(r);
  // Rollback: shop is back in place, shop-restored and the backup are gone.
  EXPECT_NE(kubectl_in("a", "get deployment checkout -n shop -o name"), "");
  expect_regions_clean({"shop-restored"});
}

TEST_F(DrExperiments, RegionFailover_RestoresInRegionBAndCleansUp) {
  std::string output;
  EXPECT_EQ(run_cli(source_dir() + "/experiments/region-failover.yaml", &output), 0) << output;
  const json r = report();
  expect_passed(r);
  EXPECT_EQ(kubectl_in("b", "get namespace shop --ignore-not-found -o name"), "");
  EXPECT_EQ(kubectl_in("a", "get nodes -o jsonpath={.items[*].spec.taints}"), "");
  expect_regions_clean({});
}

// The runner SIGKILLed while its restore in region-b runs: the journal in
// region-a names region-b (cluster dr-region, context region-b), and
// `faultline recover` undoes the restore, the restored namespace and the
// backup there; a context it cannot use leaves everything journaled.
TEST_F(DrExperiments, RegionFailoverKilledMidRestore_RecoverCleansBothRegions) {
  const std::string log = dr_state_dir() + "/killed-run.log";
  const int pid = spawn(faultline_binary() + " run " + source_dir() +
                            "/experiments/region-failover.yaml --kubeconfig " + dr_kubeconfig() +
                            " --context region-a --no-progress --scripts " + source_dir() +
                            "/lua-scripts --output-dir " + out,
                        log);
  std::string restores;
  for (int i = 0; i < 1800 && restores.empty(); ++i) {
    restores = kubectl_in("b", "get restores.velero.io -n velero -o name");
    if (restores.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(pid, SIGKILL);
  ASSERT_EQ(reap(pid), 128 + SIGKILL);
  ASSERT_NE(restores, "") << "no restore in region-b: "
                          << std::string(std::istreambuf_iterator<char>(std::ifstream(log).rdbuf()),
                                         {});
  const std::string journal = kubectl_in("a",
                                         "get configmaps -n faultline -l faultline.io/journal=true "
                                         "-o jsonpath={.items[*].data.entries}");
  EXPECT_NE(journal.find(R"("cluster":"dr-region","context":"region-b")"), std::string::npos)
      << journal;
  const std::string recover =
      faultline_binary() + " recover --kubeconfig " + dr_kubeconfig() + " --context region-a";

  std::string output;
  EXPECT_EQ(run(recover + " --context-for dr-region=region-x", &output), 5) << output;
  EXPECT_NE(output.find("cannot reach cluster 'dr-region' through context 'region-x'"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("(pass --context-for dr-region=CONTEXT)"), std::string::npos) << output;
  EXPECT_NE(kubectl_in("a", "get configmaps -n faultline -l faultline.io/journal=true -o name"),
            "");

  EXPECT_EQ(run(recover, &output), 0) << output;
  EXPECT_NE(output.find("recover: 1 journal(s) found, 1 rolled back and cleared"),
            std::string::npos)
      << output;
  expect_untouched();  // no journal, lease, Backup, Restore or restored shop in either region
  EXPECT_EQ(kubectl_in("a", "get nodes -o jsonpath={.items[*].spec.taints}"), "");
}

TEST_F(DrExperiments, ContextMissing_ExitTwoOneLineNothingTouched) {
  std::string output;
  const auto file = variant("region-failover.yaml", "context: region-b", "context: region-x");
  EXPECT_EQ(run_cli(file, &output), 2) << output;
  EXPECT_NE(output.find("region-failover.yaml:22:"), std::string::npos) << output;
  EXPECT_NE(output.find("spec.dr.clusters.dr-region.context"), std::string::npos) << output;
  expect_untouched();
}

TEST_F(DrExperiments, BackupMissing_ExitTwoOneLineNothingTouched) {
  std::string output;
  const auto file =
      variant("restore-drill.yaml", "dr: {}", "dr: { backups: [ { name: nightly-gone } ] }");
  EXPECT_EQ(run_cli(file, &output), 2) << output;
  EXPECT_NE(output.find("backup 'nightly-gone' does not exist"), std::string::npos) << output;
  expect_untouched();
}

TEST_F(DrExperiments, VeleroMissing_ExitFourOneLineNothingTouched) {
  std::string output;
  const auto file = variant("restore-drill.yaml", "dr: {}", "dr: { velero_namespace: no-velero }");
  EXPECT_EQ(run_cli(file, &output), 4) << output;
  EXPECT_NE(output.find("has no Available BackupStorageLocation in namespace no-velero"),
            std::string::npos)
      << output;
  expect_untouched();
}

}  // namespace
}  // namespace faultline::testing
