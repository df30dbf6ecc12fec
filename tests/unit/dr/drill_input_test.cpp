// The drill's refusals: each is one line, and nothing is sent that writes.
#include <gtest/gtest.h>

#include "runner/dr/drill.h"
#include "tests/unit/chaos/fake_client.h"

namespace faultline::dr {
namespace {

using faultline::testing::FakeTransport;

struct DrillFixture : ::testing::Test {
  std::shared_ptr<FakeTransport> home = std::make_shared<FakeTransport>();
  std::shared_ptr<FakeTransport> other = std::make_shared<FakeTransport>();
  Drill drill{Cluster{"", chaos::testing::fake_client(home), ""},
              {Cluster{"dr-region", chaos::testing::fake_client(other), ""}},
              nullptr,
              {}};

  static std::string error_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const std::exception& e) {
      return e.what();
    }
    return "(no error)";
  }
  void expect_no_writes() {
    for (const auto* fake : {home.get(), other.get()}) {
      for (const auto& r : fake->sent()) EXPECT_EQ(r.method, "GET") << r.method << " " << r.path;
    }
  }
};

TEST_F(DrillFixture, UnknownOptionNamesTheKnownOnes) {
  EXPECT_EQ(error_of([&] {
              drill.backup({{"namespace", "shop"}});
            }),
            "dr.backup: unknown option 'namespace' (known: namespaces, wait, exclude)");
  EXPECT_EQ(error_of([&] { drill.backup(json::object()); }),
            "dr.backup: option 'namespaces' is required");
  EXPECT_EQ(error_of([&] {
              drill.restore({{"backup", "b"}, {"wait", "soon"}});
            }),
            "dr.restore: option 'wait' must be a duration (\"5m\", \"90s\" or seconds)");
  expect_no_writes();
}

TEST_F(DrillFixture, UnknownClusterIsRefused) {
  EXPECT_EQ(error_of([&] {
              drill.restore({{"backup", "b"}, {"cluster", "mars"}});
            }),
            "cluster 'mars' is not named in the experiment's spec.dr.clusters (known: dr-region)");
  expect_no_writes();
}

TEST_F(DrillFixture, MissingBackupIsRefusedBeforeTouching) {
  EXPECT_EQ(error_of([&] { drill.require_backup("nightly-1", "dr-region"); }),
            "backup 'nightly-1' does not exist in cluster 'dr-region' (namespace velero)");
  EXPECT_EQ(error_of([&] {
              drill.restore({{"backup", "nightly-1"}, {"into_namespace", "x"}});
            }),
            "dr.restore: backup 'nightly-1' does not exist in the run's cluster");
  expect_no_writes();
}

TEST_F(DrillFixture, BackupOfAMissingNamespaceIsRefused) {
  EXPECT_EQ(error_of([&] {
              drill.backup({{"namespaces", {"shop"}}});
            }),
            "dr.backup: namespace 'shop' does not exist");
  expect_no_writes();
}

TEST_F(DrillFixture, DisasterOnANamespaceNoBackupHoldsIsRefused) {
  EXPECT_EQ(
      error_of([&] {
        drill.disaster({{"delete_namespace", "shop"}});
      }),
      "dr.disaster: namespace 'shop' is in no completed backup of this drill (it could not be "
      "put back)");
  EXPECT_TRUE(home->sent().empty());
}

TEST_F(DrillFixture, PreflightNamesTheClusterWithoutVelero) {
  home->on(
      "GET", "/apis/velero.io/v1/namespaces/velero/backupstoragelocations", 200,
      R"({"items":[{"metadata":{"name":"default"},"status":{"phase":"Available"}}],"metadata":{}})");
  EXPECT_EQ(error_of([&] { drill.preflight(); }),
            "Velero is not installed in cluster 'dr-region' (no velero.io/v1 BackupStorageLocation "
            "API)");
  expect_no_writes();
}

}  // namespace
}  // namespace faultline::dr
