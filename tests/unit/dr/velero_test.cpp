#include "runner/dr/velero.h"

#include <gtest/gtest.h>

#include "tests/unit/chaos/fake_client.h"

namespace faultline::dr {
namespace {

using faultline::testing::FakeTransport;

TEST(VeleroStatus, ReadsVelerosOwnTimestampsAndCounts) {
  const json backup = {{"metadata", {{"name", "b1"}}},
                       {"status",
                        {{"phase", "PartiallyFailed"},
                         {"startTimestamp", "2026-12-01T14:00:00Z"},
                         {"completionTimestamp", "2026-12-01T14:00:07Z"},
                         {"errors", 2},
                         {"warnings", 1},
                         {"progress", {{"itemsBackedUp", 12}}}}}};
  const Status s = status_of(backup);
  EXPECT_EQ(s.name, "b1");
  EXPECT_TRUE(s.finished());
  EXPECT_FALSE(s.ok());
  EXPECT_DOUBLE_EQ(s.completed - s.started, 7.0);
  EXPECT_EQ(s.items, 12);
  EXPECT_EQ(s.describe(), "PartiallyFailed: 2 errors, 1 warning");
  EXPECT_FALSE(
      status_of({{"metadata", {{"name", "x"}}}, {"status", {{"phase", "InProgress"}}}}).finished());
  EXPECT_EQ(status_of({{"metadata", {{"name", "x"}}},
                       {"status",
                        {{"phase", "FailedValidation"},
                         {"validationErrors", {"backup \"gone\" not found"}}}}})
                .describe(),
            "FailedValidation: backup \"gone\" not found");
}

TEST(VeleroInstalled, MissingApiIsOneLineNamingTheCluster) {
  auto fake = std::make_shared<FakeTransport>();
  Velero velero(chaos::testing::fake_client(fake));
  try {
    velero.check_installed("cluster 'dr-region'");
    FAIL() << "no error";
  } catch (const DrInputError& e) {
    EXPECT_STREQ(e.what(),
                 "Velero is not installed in cluster 'dr-region' (no velero.io/v1 "
                 "BackupStorageLocation API)");
  }
}

TEST(VeleroInstalled, NeedsAnAvailableStorageLocation) {
  auto fake = std::make_shared<FakeTransport>();
  const std::string path = "/apis/velero.io/v1/namespaces/velero/backupstoragelocations";
  fake->on(
      "GET", path, 200,
      R"({"items":[{"metadata":{"name":"default"},"status":{"phase":"Unavailable"}}],"metadata":{}})");
  fake->on(
      "GET", path, 200,
      R"({"items":[{"metadata":{"name":"default"},"status":{"phase":"Available"}}],"metadata":{}})");
  Velero velero(chaos::testing::fake_client(fake));
  EXPECT_THROW(velero.check_installed("x"), DrInputError);
  EXPECT_NO_THROW(velero.check_installed("x"));
}

TEST(VeleroSchedule, LatestCompletedBackupWins) {
  auto fake = std::make_shared<FakeTransport>();
  fake->on("GET", "/apis/velero.io/v1/namespaces/velero/backups", 200, R"({"items":[
    {"metadata":{"name":"s-1"},"status":{"phase":"Completed","completionTimestamp":"2026-12-01T10:00:00Z"}},
    {"metadata":{"name":"s-3"},"status":{"phase":"Failed","completionTimestamp":"2026-12-01T12:00:00Z"}},
    {"metadata":{"name":"s-2"},"status":{"phase":"Completed","completionTimestamp":"2026-12-01T11:00:00Z"}}
  ],"metadata":{}})");
  Velero velero(chaos::testing::fake_client(fake));
  const auto latest = velero.latest_of_schedule("nightly");
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->name, "s-2");
  const auto sent = fake->sent();
  ASSERT_FALSE(sent.empty());
  EXPECT_NE(sent.back().path.find("labelSelector=velero.io%2Fschedule-name%3Dnightly"),
            std::string::npos)
      << sent.back().path;
}

}  // namespace
}  // namespace faultline::dr
