#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "reports/render.h"
#include "tests/unit/reports/sample_record.h"

namespace faultline::reports {
namespace {

using testing::Outcome;

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(Markdown, PassingRunHasVerdictAndEverySlo) {
  std::string md = render(testing::zone_outage_run(Outcome::Passed), Format::Markdown);
  auto l = lines(md);
  ASSERT_FALSE(l.empty());
  EXPECT_EQ(l[0], "### ✅ faultline checkout-zone-outage: **PASSED**");
  EXPECT_TRUE(has(md, "All 3 SLOs were met.")) << md;
  EXPECT_TRUE(has(md, "| availability(http) | 99.72% | >= 99.5% | ✅ pass |")) << md;
  EXPECT_TRUE(has(md, "| ready\\_endpoints(checkout) | 4 | >= 2 | ✅ pass |")) << md;
  EXPECT_TRUE(has(md, "| replacement | 41.3s | \\<= 120s | ✅ pass |")) << md;
  EXPECT_TRUE(has(md, "**Faults:** 4 faults: 2 rolled back, 2 not reversible")) << md;
  EXPECT_TRUE(has(md, "**Rollback:** complete")) << md;
  EXPECT_FALSE(has(md, "Aborted")) << md;
  // Short enough for a chat message.
  EXPECT_LT(l.size(), 20u);
}

TEST(Markdown, FailedRunNamesTheFailingSlo) {
  std::string md = render(testing::zone_outage_run(Outcome::Failed), Format::Markdown);
  EXPECT_EQ(lines(md)[0], "### ❌ faultline checkout-zone-outage: **FAILED**");
  EXPECT_TRUE(has(md, "1 of 3 SLOs failed: availability(http) measured 98.41%, bound >= 99.5%."))
      << md;
  EXPECT_TRUE(has(md, "| availability(http) | 98.41% | >= 99.5% | ❌ fail |")) << md;
}

TEST(Markdown, AbortedRunGivesTheAbortReason) {
  std::string md = render(testing::zone_outage_run(Outcome::Aborted), Format::Markdown);
  EXPECT_EQ(lines(md)[0], "### ⚠️ faultline checkout-zone-outage: **ABORTED**");
  EXPECT_TRUE(has(md,
                  "**Aborted** at 30s: availability(http) below 90% over 10s (value 71.4%) — "
                  "stop condition breached; injection stopped and rolled back"))
      << md;
  EXPECT_TRUE(has(md, "| availability(http) | – | >= 99.5% | ⏭️ not evaluated |")) << md;
}

TEST(Markdown, IncompleteRollbackListsWhatIsLeft) {
  std::string md = render(testing::zone_outage_run(Outcome::RollbackIncomplete), Format::Markdown);
  EXPECT_TRUE(has(md, "**Rollback:** ⚠️ incomplete — run `faultline recover`.")) << md;
  EXPECT_TRUE(has(md, "- node/zone-a-2 still cordoned (spec.unschedulable=true)")) << md;
  EXPECT_TRUE(has(md, "1 still applied")) << md;
}

TEST(Markdown, HostileStringsAreEscaped) {
  std::string md = render(testing::hostile_run(), Format::Markdown);
  // Every "<" is escaped, so no tag or autolink survives.
  for (size_t at = md.find('<'); at != std::string::npos; at = md.find('<', at + 1)) {
    EXPECT_TRUE(at > 0 && md[at - 1] == '\\') << md.substr(at, 20);
  }
  EXPECT_TRUE(has(md, "\\[link\\](https://example.invalid/)")) << md;  // a link no more
  EXPECT_TRUE(has(md, "zone\\<script>alert('x')\\</script>-outage")) << md;
  // The pipe in the SLO name must not split its table row: 4 cells per row.
  for (const auto& line : lines(md)) {
    if (line.rfind("| availability", 0) != 0) continue;
    size_t unescaped = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '|' && (i == 0 || line[i - 1] != '\\')) ++unescaped;
    }
    EXPECT_EQ(unescaped, 5u) << line;
  }
}

TEST(Markdown, RestoreDrillListsBackupsRestoresVelerosOwnWordsAndTheTimeline) {
  std::string md = render(testing::restore_drill_run(), Format::Markdown);
  auto l = lines(md);
  auto at = std::find(l.begin(), l.end(), "**Restore drill:** RTO 32.9s, RPO 2.2s");
  ASSERT_NE(at, l.end()) << md;
  const std::vector<std::string> want = {
      "**Restore drill:** RTO 32.9s, RPO 2.2s",
      "",
      "- ✅ backup faultline-c3c64c68-b1: Completed (29 items)",
      "- ✅ restore faultline-c3c64c68-r2 of faultline-c3c64c68-b1 into shop (cluster "
      "'dr-region'): Ready and verified",
      "  - Velero warning: shop: could not restore, ConfigMap:kube-root-ca.crt already exists. "
      "Warning: the in-cluster version is different than the backed-up version",
      "- ❌ restore faultline-c3c64c68-r3 of faultline-c3c64c68-b1 into shop-copy: data check "
      "failed: Secret/db data differs (and 1 more) (Secret/db data differs, ConfigMap/settings "
      "missing)",
      "",
      "| t | event |",
      "|---|---|",
      "| 2.2s | backup faultline-c3c64c68-b1 started |",
  };
  for (size_t i = 0; i < want.size(); ++i, ++at) {
    ASSERT_NE(at, l.end());
    EXPECT_EQ(*at, want[i]) << "line " << i;
  }
}

}  // namespace
}  // namespace faultline::reports
