// A restore drill against a cluster whose API server has no Velero at all
// (the kwok e2e cluster: no velero.io CRDs, unlike the DR fixture, where
// Velero is installed): one line, exit 4 (README: the cluster cannot serve
// the drill), and nothing touched.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/e2e/cluster_env.h"

namespace faultline::testing {
namespace {

TEST(DrNoVelero, RestoreDrillWithoutVelerosCrdsIsExitFourOneLineNothingTouched) {
  ASSERT_EQ(kubectl("get crd backups.velero.io backupstoragelocations.velero.io "
                    "--ignore-not-found -o name"),
            "");
  deploy_demo();
  const std::string out = cluster_state_dir() + "/out-no-velero";
  std::string output;
  const int rc = faultline("run " + source_dir() + "/experiments/restore-drill.yaml --scripts " +
                               source_dir() + "/lua-scripts --no-progress --output-dir " + out,
                           &output);
  std::filesystem::remove_all(out);
  EXPECT_EQ(rc, 4) << output;
  const std::string line =
      "Velero is not installed in the run's cluster (no velero.io/v1 BackupStorageLocation API)";
  EXPECT_NE(output.find(line), std::string::npos) << output;
  // One line says it: no second message, no trace.
  size_t lines = 0;
  for (size_t at = 0; (at = output.find("Velero", at)) != std::string::npos; ++at) ++lines;
  EXPECT_EQ(lines, 1u) << output;
  EXPECT_NE(kubectl("get deployment checkout -n shop -o name"), "");
  EXPECT_EQ(kubectl("get namespace shop-restored --ignore-not-found -o name"), "");
  expect_cluster_clean();
}

}  // namespace
}  // namespace faultline::testing
