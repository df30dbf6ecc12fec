// RunMetrics::push against a real prometheus-pushgateway (Debian package),
// started on a free loopback port with persistence off and stopped after
// each test; what it serves on /metrics is read back over HTTP.
#include <gtest/gtest.h>

#include <cmath>

#include "reports/metrics.h"
#include "tests/unit/reports/sample_record.h"
#include "tests/unit/reports/tools.h"

namespace faultline::reports {
namespace {

using testing::find_samples;
using testing::Outcome;
using testing::parse_exposition;

constexpr double kDay0End = 1741053720;  // 2025-03-04T02:02:00Z
constexpr double kDay1End = kDay0End + 86400;

class Pushgateway : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = testing::free_port();
    url_ = "http://127.0.0.1:" + std::to_string(port_);
    // Debian's build defaults --persistence.file to
    // /var/lib/prometheus/pushgateway.data: an empty value keeps everything
    // in memory, so no test sees another's (or an earlier run's) metrics.
    gateway_ = std::make_unique<testing::BackgroundProcess>(
        std::vector<std::string>{"prometheus-pushgateway",
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                 "--persistence.file="},
        dir_.file("pushgateway.log"));
    ASSERT_TRUE(testing::wait_for_http_ok(url_ + "/-/ready", 30))
        << "pushgateway did not become ready:\n"
        << testing::read_file(dir_.file("pushgateway.log.err"));
  }

  void TearDown() override { gateway_->stop(); }

  std::vector<testing::Sample> scrape() {
    auto response = testing::http_get(url_ + "/metrics");
    EXPECT_EQ(response.status, 200) << response.error;
    return parse_exposition(response.body);
  }

  // The value of the one sample of `name` in the group, NaN if not exactly one.
  double value(const std::vector<testing::Sample>& samples, const std::string& name,
               std::map<std::string, std::string> labels = {}) {
    labels.emplace("job", "faultline");
    labels.emplace("experiment", "checkout-zone-outage");
    labels.emplace("cluster", "kind-faultline");
    auto found = find_samples(samples, name, labels);
    EXPECT_EQ(found.size(), 1u) << name;
    return found.size() == 1 ? found[0].value : std::nan("");
  }

  testing::TempDir dir_;
  int port_ = 0;
  std::string url_;
  std::unique_ptr<testing::BackgroundProcess> gateway_;
};

TEST_F(Pushgateway, PassingRunIsPushedWithItsSuccessTimestamp) {
  RunMetrics m;
  m.update(testing::zone_outage_run(Outcome::Passed));
  m.push(url_);
  auto s = scrape();
  EXPECT_EQ(value(s, "faultline_run_result", {{"result", "passed"}}), 1);
  EXPECT_EQ(value(s, "faultline_run_result", {{"result", "failed"}}), 0);
  EXPECT_EQ(value(s, "faultline_slo_passed", {{"slo", "availability(http)"}}), 1);
  EXPECT_DOUBLE_EQ(value(s, "faultline_slo_value", {{"slo", "availability(http)"}}), 0.9972);
  EXPECT_DOUBLE_EQ(value(s, "faultline_availability_ratio"), 0.9972);
  EXPECT_DOUBLE_EQ(value(s, "faultline_replacement_seconds"), 41.3);
  EXPECT_EQ(value(s, "faultline_run_duration_seconds"), 120);
  EXPECT_EQ(value(s, "faultline_rollback_complete"), 1);
  EXPECT_EQ(value(s, "faultline_last_run_timestamp_seconds"), kDay0End);
  EXPECT_EQ(value(s, "faultline_last_success_timestamp_seconds"), kDay0End);
}

// A scheduled drill: one process per run, so each run has a fresh registry.
// The failing run must not erase when the drill last passed, or the
// "no successful drill in 26h" alert could never fire on a failing drill.
TEST_F(Pushgateway, FailingRunAfterAPassingOneKeepsTheLastSuccess) {
  {
    RunMetrics passing;
    passing.update(testing::zone_outage_run(Outcome::Passed, 0));
    passing.push(url_);
  }
  EXPECT_EQ(value(scrape(), "faultline_last_success_timestamp_seconds"), kDay0End);
  {
    RunMetrics failing;
    failing.update(testing::zone_outage_run(Outcome::Failed, 1));
    failing.push(url_);
  }
  auto s = scrape();
  EXPECT_EQ(value(s, "faultline_run_result", {{"result", "failed"}}), 1);
  EXPECT_EQ(value(s, "faultline_run_result", {{"result", "passed"}}), 0);
  EXPECT_EQ(value(s, "faultline_slo_passed", {{"slo", "availability(http)"}}), 0);
  EXPECT_DOUBLE_EQ(value(s, "faultline_slo_value", {{"slo", "availability(http)"}}), 0.9841);
  EXPECT_EQ(value(s, "faultline_last_run_timestamp_seconds"), kDay1End);
  EXPECT_EQ(value(s, "faultline_last_success_timestamp_seconds"), kDay0End);
}

// POST replaces only the metric names a push carries: the aborted run must
// still carry every run metric (NaN where it measured nothing), or the
// passing run's values would stand in the group as if they were its own.
TEST_F(Pushgateway, AbortedRunLeavesNoValueOfThePreviousRunStanding) {
  {
    RunMetrics passing;
    passing.update(testing::zone_outage_run(Outcome::Passed, 0));
    passing.push(url_);
  }
  {
    RunMetrics aborted;
    aborted.update(testing::zone_outage_run(Outcome::Aborted, 1));
    aborted.push(url_);
  }
  auto s = scrape();
  EXPECT_EQ(value(s, "faultline_run_result", {{"result", "aborted"}}), 1);
  EXPECT_EQ(value(s, "faultline_run_result", {{"result", "passed"}}), 0);
  EXPECT_EQ(value(s, "faultline_run_duration_seconds"), 45);
  EXPECT_TRUE(std::isnan(value(s, "faultline_slo_passed", {{"slo", "availability(http)"}})));
  EXPECT_TRUE(std::isnan(value(s, "faultline_slo_value", {{"slo", "availability(http)"}})));
  EXPECT_TRUE(std::isnan(value(s, "faultline_availability_ratio")));
  EXPECT_TRUE(std::isnan(value(s, "faultline_replacement_seconds")));
  EXPECT_EQ(value(s, "faultline_last_success_timestamp_seconds"), kDay0End);
}

TEST_F(Pushgateway, GroupsByExperimentAndClusterWhateverTheirCharacters) {
  RunRecord eks = testing::zone_outage_run(Outcome::Passed);
  eks.cluster_context = "arn:aws:eks:eu-west-1:123456789012:cluster/prod";
  RunRecord kind = testing::zone_outage_run(Outcome::Failed);
  {
    RunMetrics m;
    m.update(eks);
    m.push(url_);
  }
  {
    RunMetrics m;
    m.update(kind);
    m.push(url_);
  }
  auto s = scrape();
  auto eks_result =
      find_samples(s, "faultline_run_result",
                   {{"job", "faultline"}, {"cluster", eks.cluster_context}, {"result", "passed"}});
  ASSERT_EQ(eks_result.size(), 1u);
  EXPECT_EQ(eks_result[0].value, 1);
  EXPECT_EQ(value(s, "faultline_run_result", {{"result", "failed"}}), 1);
  // Two groups, each with its own last success (kind's run failed: none).
  EXPECT_EQ(find_samples(s, "faultline_last_success_timestamp_seconds").size(), 1u);
}

}  // namespace
}  // namespace faultline::reports
