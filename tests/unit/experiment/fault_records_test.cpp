// Journal entries as report faults: what was never made is not reported as
// made, and a second cordon by this run is not blamed on the operator.
#include "runner/experiment/fault_records.h"

#include <gtest/gtest.h>

namespace faultline::experiment {
namespace {

chaos::JournalEntry entry(int id, const std::string& action, const std::string& kind,
                          const std::string& name, const std::string& state, double applied,
                          const std::string& note = "") {
  chaos::JournalEntry e;
  e.id = id;
  e.action = action;
  e.kind = kind;
  e.name = name;
  e.state = state;
  e.t_applied = applied;
  e.note = note;
  return e;
}

TEST(FaultRecords, EvictionsNeverMadeAreNotApplied_NotEvictionsAtTimeZero) {
  // 2 pods evicted; 4 blocked by the PDB until the abort, which rollback
  // then marks not_reversible (nothing to undo).
  std::vector<chaos::JournalEntry> entries;
  for (int i = 1; i <= 6; ++i)
    entries.push_back(
        entry(i, "evict", "pod", "p" + std::to_string(i), "not_reversible", i <= 2 ? 3.5 : -1));
  auto faults = fault_records(entries);
  ASSERT_EQ(faults.size(), 6u);
  EXPECT_EQ(faults[0].status, "not_reversible");
  EXPECT_EQ(faults[1].status, "not_reversible");
  for (int i = 2; i < 6; ++i) EXPECT_EQ(faults[i].status, "not_applied") << i;
}

TEST(FaultRecords, ASecondCordonByThisRunIsSaidToBeThisRuns) {
  auto faults = fault_records({entry(1, "cordon", "node", "zone-a-1", "reverted", 1.0),
                               entry(2, "cordon", "node", "zone-a-1", "skipped", -1,
                                     "already cordoned before the run: left as it was"),
                               entry(3, "cordon", "node", "zone-a-2", "skipped", -1,
                                     "already cordoned before the run: left as it was")});
  EXPECT_EQ(faults[0].status, "rolled_back");
  EXPECT_EQ(faults[1].status, "skipped");
  EXPECT_EQ(faults[1].error, "already cordoned by this run (fault 1)");
  EXPECT_EQ(faults[2].error,
            "already cordoned before the run: left as it was");  // truly the operator's
}

TEST(FaultRecords, ARestoreDrillsObjectInAnotherClusterNamesTheCluster) {
  auto restored = entry(8, "create", "namespace", "shop", "reverted", 33.7);
  restored.cluster = "dr-region";
  restored.context = "region-b";
  auto faults =
      fault_records({entry(1, "create", "velero.io/backup", "b1", "reverted", 2.2), restored});
  ASSERT_EQ(faults.size(), 2u);
  EXPECT_EQ(faults[0].target, "velero.io/backup/b1");
  EXPECT_EQ(faults[1].target, "namespace/shop in cluster 'dr-region'");
  EXPECT_EQ(faults[1].action, "create_namespace");
  EXPECT_EQ(faults[1].error, "");  // where it is, is not an error
}

}  // namespace
}  // namespace faultline::experiment
