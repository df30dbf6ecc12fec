// SLO verdicts and stop conditions on a real zone outage (issue 5): an SLO
// the drill cannot meet fails the run (exit 1) and is named; a breached stop
// condition ends the injection at once (exit 3) with the breaching sample in
// the report; a steady state that does not hold refuses the drill before any
// fault. Every path leaves the cluster as it was.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "tests/e2e/cluster_env.h"
#include "tests/e2e/experiments/experiment_env.h"

namespace faultline::testing {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SloAndAbort : public ::testing::Test {
 protected:
  void SetUp() override {
    fresh_demo();
    before_ = snapshot_nodes();
  }

  Scratch scratch_;
  NodeSnapshot before_;
};

TEST_F(SloAndAbort, ImpossibleReplacementSlo_FailsWithExitOneAndNamesTheSlo) {
  ExperimentSpec spec;
  spec.name = "e2e-impossible-slo";
  spec.slos = {"{ ready_endpoints: { service: checkout, min: 2 } }",
               "{ replacement: { within: 1ms, max_skew: 1 } }"};
  spec.timing = "{ warmup: 2s, recovery: 5s, cooldown: 1s }";
  std::string file = scratch_.experiment("impossible-slo", spec.yaml()),
              out_dir = scratch_.output_dir(), output;

  int code = faultline("run " + file + " --output-dir " + out_dir, &output);

  EXPECT_EQ(code, 1) << output;
  std::string result = line_starting_with(output, "result: ");
  EXPECT_EQ(result.rfind("result: failed (exit 1): SLO failed: replacement: measured ", 0), 0u)
      << output;
  EXPECT_EQ(result.find("ready_endpoints"), std::string::npos)
      << "only the replacement SLO failed: " << result;
  json report = read_report(out_dir);
  EXPECT_EQ(report.value("result", ""), "failed");
  EXPECT_EQ(report.value("exit_code", -1), 1);
  const json* replacement = find_slo(report, "replacement");
  ASSERT_NE(replacement, nullptr);
  EXPECT_FALSE(replacement->value("passed", true));
  ASSERT_TRUE((*replacement)["measured"].is_number()) << replacement->dump(2);
  EXPECT_GT((*replacement)["measured"].get<double>(), 0.001);  // it was measured, and too slow
  const json* endpoints = find_slo(report, "ready_endpoints");
  ASSERT_NE(endpoints, nullptr);
  EXPECT_TRUE(endpoints->value("passed", false)) << endpoints->dump(2);
  // The CI gate sees it: one failing test case in the JUnit report.
  std::string junit = slurp(out_dir + "/junit.xml");
  EXPECT_NE(junit.find("<failure"), std::string::npos) << junit;
  expect_cluster_as_before(before_);
}

TEST_F(SloAndAbort, BreachedStopCondition_AbortsWithExitThreeAndTheBreachingSample) {
  ExperimentSpec spec;
  spec.name = "e2e-abort";
  spec.aborts = {"{ ready_endpoints: { below: 6 } }"};  // losing zone-a takes 2 of 6
  std::string file = scratch_.experiment("abort", spec.yaml()), out_dir = scratch_.output_dir(),
              output;

  int code = faultline("run " + file + " --output-dir " + out_dir, &output);

  EXPECT_EQ(code, 3) << output;
  EXPECT_EQ(line_starting_with(output, "result: ")
                .rfind("result: aborted (exit 3): stop condition breached: ", 0),
            0u)
      << output;
  json report = read_report(out_dir);
  EXPECT_EQ(report.value("result", ""), "aborted");
  ASSERT_TRUE(report.contains("abort") && report["abort"].is_object()) << report.dump(2);
  const json& abort = report["abort"];
  EXPECT_EQ(abort.value("condition", ""), "ready_endpoints(endpoints) below 6") << abort.dump();
  // The breaching sample: the first count below 6 (zone-a's two endpoints go
  // one at a time or together), and when it was seen.
  std::smatch m;
  std::string value = abort.value("value", "");
  ASSERT_TRUE(std::regex_match(value, m, std::regex("([0-9]+) ready"))) << abort.dump();
  int ready = std::stoi(m[1]);
  EXPECT_TRUE(ready == 4 || ready == 5) << abort.dump();
  EXPECT_EQ(
      abort.value("message", "").rfind("ready endpoints dropped to " + m[1].str() + " at t=", 0),
      0u)
      << abort.dump();
  EXPECT_GT(abort.value("t", 0.0), 0.0);
  EXPECT_LT(abort.value("t", 0.0), report.value("duration_seconds", 0.0));
  // The abort stopped the drill: no verify phase, no SLO verdicts, and the
  // zone's faults undone.
  for (const auto& p : report.value("phases", json::array()))
    EXPECT_NE(p.value("name", ""), "verify");
  EXPECT_TRUE(report.value("slos", json::array()).empty()) << report["slos"].dump(2);
  EXPECT_TRUE(report["rollback"].value("complete", false));
  ASSERT_FALSE(report.value("faults", json::array()).empty());
  for (const auto& f : report["faults"])
    EXPECT_EQ(f.value("status", ""), "rolled_back") << f.dump();
  expect_cluster_as_before(before_);
}

TEST_F(SloAndAbort, SteadyStateNotHolding_RefusesTheDrillBeforeAnyFault) {
  ExperimentSpec spec;
  spec.name = "e2e-no-steady-state";
  spec.slos = {"{ ready_endpoints: { service: checkout, min: 100 } }"};
  std::string file = scratch_.experiment("no-steady-state", spec.yaml()),
              out_dir = scratch_.output_dir(), output;

  int code = faultline("run " + file + " --output-dir " + out_dir, &output);

  EXPECT_NE(code, 0) << output;
  EXPECT_NE(code, 2) << "a refused drill is not invalid input: " << output;
  EXPECT_EQ(line_starting_with(output, "result: ")
                .rfind("result: failed (exit 1): steady state does not hold before any fault: "
                       "ready_endpoints(checkout)",
                       0),
            0u)
      << output;
  json report = read_report(out_dir);
  EXPECT_EQ(report.value("result", ""), "failed");
  EXPECT_TRUE(report.value("faults", json::array()).empty()) << report["faults"].dump(2);
  for (const auto& p : report.value("phases", json::array()))
    EXPECT_NE(p.value("name", ""), "inject");
  expect_cluster_as_before(before_);
}

}  // namespace
}  // namespace faultline::testing
