// What a run keeps for its report is bounded, and the report says so when it
// dropped something: a script logging 32 MiB lines in a loop must not grow
// the runner until it is OOM-killed mid-drill.
#include "runner/experiment/run_context.h"

#include <gtest/gtest.h>

namespace faultline::experiment {
namespace {

TEST(RunContext, LongLogLinesAreCutAndSaySo) {
  RunContext run;
  run.add_log(std::string(32u << 20, 'x'));
  auto log = run.log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].size(),
            RunContext::kMaxLogLine + std::string("... [33550336 bytes cut]").size());
  EXPECT_EQ(log[0].substr(RunContext::kMaxLogLine), "... [33550336 bytes cut]");
}

TEST(RunContext, TheLogStopsAtItsBudgetAndTheLastLineSaysHowMuchWasDropped) {
  RunContext run;
  for (int i = 0; i < 1000; ++i) run.add_log(std::string(64u << 10, 'x'));
  auto log = run.log();
  size_t bytes = 0;
  for (const auto& l : log) bytes += l.size();
  EXPECT_LE(bytes, RunContext::kMaxLogBytes + 200);
  EXPECT_EQ(log.back(), "[log truncated: 746 line(s) dropped past 1 MiB]");
}

TEST(RunContext, MarkersAreBoundedWithATruncationMarker) {
  RunContext run;
  for (size_t i = 0; i < RunContext::kMaxMarkers + 5; ++i) run.add_marker("phase", "m");
  auto markers = run.markers();
  ASSERT_EQ(markers.size(), RunContext::kMaxMarkers + 1);
  EXPECT_EQ(markers.back().kind, "phase");  // a kind the report schema knows
  EXPECT_EQ(markers.back().label, "markers truncated: 5 dropped past 10000");
}

}  // namespace
}  // namespace faultline::experiment
