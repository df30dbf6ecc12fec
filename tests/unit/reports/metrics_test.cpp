#include "reports/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "reports/output_error.h"
#include "runner/common/error.h"
#include "tests/unit/reports/sample_record.h"
#include "tests/unit/reports/tools.h"

namespace faultline::reports {
namespace {

using testing::find_samples;
using testing::Outcome;
using testing::parse_exposition;

const std::map<std::string, std::string> kRun = {{"experiment", "checkout-zone-outage"},
                                                 {"cluster", "kind-faultline"}};

std::map<std::string, std::string> with(std::map<std::string, std::string> labels,
                                        const std::string& k, const std::string& v) {
  labels[k] = v;
  return labels;
}

// The value of the one sample matching, or NaN (and a test failure) if there
// is not exactly one.
double value(const std::vector<testing::Sample>& samples, const std::string& name,
             const std::map<std::string, std::string>& labels = kRun) {
  auto found = find_samples(samples, name, labels);
  EXPECT_EQ(found.size(), 1u) << name;
  return found.size() == 1 ? found[0].value : std::nan("");
}

constexpr double kDay0End = 1741053720;  // 2025-03-04T02:02:00Z
constexpr double kDay1End = kDay0End + 86400;

TEST(RunMetrics, PassingRunSetsEveryGauge) {
  RunMetrics m;
  m.update(testing::zone_outage_run(Outcome::Passed));
  auto s = parse_exposition(m.text());
  EXPECT_EQ(value(s, "faultline_run_result", with(kRun, "result", "passed")), 1);
  EXPECT_EQ(value(s, "faultline_run_result", with(kRun, "result", "failed")), 0);
  EXPECT_EQ(find_samples(s, "faultline_run_result", kRun).size(), 5u);
  EXPECT_EQ(value(s, "faultline_slo_passed", with(kRun, "slo", "availability(http)")), 1);
  EXPECT_DOUBLE_EQ(value(s, "faultline_slo_value", with(kRun, "slo", "availability(http)")),
                   0.9972);
  EXPECT_DOUBLE_EQ(value(s, "faultline_slo_value", with(kRun, "slo", "replacement")), 41.3);
  EXPECT_DOUBLE_EQ(value(s, "faultline_availability_ratio"), 0.9972);
  EXPECT_DOUBLE_EQ(value(s, "faultline_replacement_seconds"), 41.3);
  EXPECT_EQ(value(s, "faultline_run_duration_seconds"), 120);
  EXPECT_EQ(value(s, "faultline_last_run_timestamp_seconds"), kDay0End);
  EXPECT_EQ(value(s, "faultline_last_success_timestamp_seconds"), kDay0End);
  EXPECT_EQ(value(s, "faultline_rollback_complete"), 1);
  EXPECT_EQ(value(s, "faultline_run_faults", with(kRun, "status", "rolled_back")), 2);
  EXPECT_EQ(value(s, "faultline_run_faults", with(kRun, "status", "not_reversible")), 2);
}

TEST(RunMetrics, FailingRunKeepsTheLastSuccess) {
  RunMetrics m;
  m.update(testing::zone_outage_run(Outcome::Passed, 0));
  m.update(testing::zone_outage_run(Outcome::Failed, 1));
  auto s = parse_exposition(m.text());
  EXPECT_EQ(value(s, "faultline_run_result", with(kRun, "result", "failed")), 1);
  EXPECT_EQ(value(s, "faultline_run_result", with(kRun, "result", "passed")), 0);
  EXPECT_EQ(value(s, "faultline_slo_passed", with(kRun, "slo", "availability(http)")), 0);
  EXPECT_EQ(value(s, "faultline_last_run_timestamp_seconds"), kDay1End);
  EXPECT_EQ(value(s, "faultline_last_success_timestamp_seconds"), kDay0End);
}

TEST(RunMetrics, FailingRunAloneHasNoSuccessTimestamp) {
  RunMetrics m;
  m.update(testing::zone_outage_run(Outcome::Failed));
  auto s = parse_exposition(m.text());
  EXPECT_TRUE(find_samples(s, "faultline_last_success_timestamp_seconds").empty());
  EXPECT_EQ(value(s, "faultline_last_run_timestamp_seconds"), kDay0End);
}

TEST(RunMetrics, SeriesOfTheLastRunReplaceThoseOfTheRunBefore) {
  RunMetrics m;
  RunRecord first = testing::zone_outage_run();
  first.slos[0].name = "availability(old-probe)";
  m.update(first);
  m.update(testing::zone_outage_run());
  auto s = parse_exposition(m.text());
  EXPECT_TRUE(
      find_samples(s, "faultline_slo_passed", {{"slo", "availability(old-probe)"}}).empty());
  EXPECT_EQ(find_samples(s, "faultline_slo_passed", kRun).size(), 3u);
}

TEST(RunMetrics, AbortedRunReportsWhatItDidNotMeasureAsNaN) {
  RunMetrics m;
  m.update(testing::zone_outage_run(Outcome::Aborted));
  auto s = parse_exposition(m.text());
  EXPECT_EQ(value(s, "faultline_run_result", with(kRun, "result", "aborted")), 1);
  auto passed = find_samples(s, "faultline_slo_passed", kRun);
  ASSERT_EQ(passed.size(), 3u);
  for (const auto& p : passed) EXPECT_TRUE(std::isnan(p.value)) << p.labels.at("slo");
  EXPECT_TRUE(std::isnan(value(s, "faultline_slo_value", with(kRun, "slo", "replacement"))));
  EXPECT_TRUE(std::isnan(value(s, "faultline_availability_ratio")));
  EXPECT_TRUE(std::isnan(value(s, "faultline_replacement_seconds")));
  EXPECT_EQ(value(s, "faultline_run_duration_seconds"), 45);
}

TEST(RunMetrics, StartMarksARunInProgressUntilUpdate) {
  RunMetrics m;
  m.start("checkout-zone-outage", "kind-faultline");
  EXPECT_EQ(value(parse_exposition(m.text()), "faultline_run_in_progress"), 1);
  m.update(testing::zone_outage_run());
  EXPECT_EQ(value(parse_exposition(m.text()), "faultline_run_in_progress"), 0);
}

TEST(RunMetrics, UpdateRefusesARecordWithoutAnEndTime) {
  RunMetrics m;
  RunRecord r = testing::zone_outage_run();
  r.ended_at = "soon";
  try {
    m.update(r);
    FAIL() << "accepted ended_at \"soon\"";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "run record: ended_at is not an RFC 3339 time: \"soon\"");
  }
}

TEST(RunMetrics, ServesMetricsOverHttp) {
  RunMetrics m;
  m.update(testing::zone_outage_run(Outcome::Failed));
  int port = m.serve(0, "127.0.0.1");
  ASSERT_GT(port, 0);
  auto response = testing::http_get("http://127.0.0.1:" + std::to_string(port) + "/metrics");
  ASSERT_EQ(response.status, 200) << response.error;
  auto s = parse_exposition(response.body);
  EXPECT_EQ(value(s, "faultline_run_result", with(kRun, "result", "failed")), 1);
  EXPECT_DOUBLE_EQ(value(s, "faultline_slo_value", with(kRun, "slo", "availability(http)")),
                   0.9841);
  EXPECT_EQ(value(s, "faultline_rollback_complete"), 1);

  // What is served follows later updates.
  m.update(testing::zone_outage_run(Outcome::RollbackIncomplete, 1));
  response = testing::http_get("http://127.0.0.1:" + std::to_string(port) + "/metrics");
  ASSERT_EQ(response.status, 200) << response.error;
  s = parse_exposition(response.body);
  EXPECT_EQ(value(s, "faultline_rollback_complete"), 0);
  EXPECT_EQ(value(s, "faultline_run_result", with(kRun, "result", "rollback_incomplete")), 1);
}

TEST(RunMetrics, ServeOnABusyPortIsAnOutputError) {
  RunMetrics first, second;
  int port = first.serve(0, "127.0.0.1");
  try {
    second.serve(port, "127.0.0.1");
    FAIL() << "bound a busy port";
  } catch (const OutputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(
                  "cannot serve metrics on 127.0.0.1:" + std::to_string(port) + ": ", 0),
              0u)
        << e.what();
  }
}

TEST(GatewayUrl, AcceptsHostAndPort) {
  auto a = parse_gateway_url("http://127.0.0.1:9091");
  EXPECT_EQ(a.host, "http://127.0.0.1");
  EXPECT_EQ(a.port, "9091");
  a = parse_gateway_url("https://pushgateway.monitoring.svc/");
  EXPECT_EQ(a.host, "https://pushgateway.monitoring.svc");
  EXPECT_EQ(a.port, "443");
  a = parse_gateway_url("http://[::1]:9091");
  EXPECT_EQ(a.host, "http://[::1]");
  EXPECT_EQ(a.port, "9091");
}

TEST(GatewayUrl, RejectsWhatPrometheusCppCannotPushTo) {
  auto message = [](const std::string& url) {
    try {
      parse_gateway_url(url);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message("127.0.0.1:9091"),
            "pushgateway URL: expected http://host[:port] or https://host[:port]");
  EXPECT_EQ(message("http://gw:9091/prefix"),
            "pushgateway URL \"http://gw:9091/prefix\": a path, query or fragment is not "
            "supported (expected http://host[:port])");
  EXPECT_EQ(message("http://gw:99999"),
            "pushgateway URL \"http://gw:99999\": port must be 1-65535");
  EXPECT_EQ(message("http://:9091"), "pushgateway URL \"http://:9091\": no host");
  // Never echo a URL that carries a password.
  EXPECT_EQ(message("http://admin:s3cret@gw:9091"),
            "pushgateway URL: credentials in the URL are not supported");
}

TEST(RunMetrics, PushToNothingIsAnOutputErrorNamingTheGateway) {
  RunMetrics m;
  m.update(testing::zone_outage_run());
  int port = testing::free_port();
  try {
    m.push("http://127.0.0.1:" + std::to_string(port), "faultline", 10);
    FAIL() << "pushed to a closed port";
  } catch (const OutputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "pushgateway http://127.0.0.1:" + std::to_string(port) +
                  " (job faultline, experiment checkout-zone-outage, cluster kind-faultline): "
                  "push failed: Couldn't connect to server (curl error 7)");
  }
}

TEST(RunMetrics, PushWithoutARunIsAnError) {
  RunMetrics m;
  EXPECT_THROW(m.push("http://127.0.0.1:9"), OutputError);
}

}  // namespace
}  // namespace faultline::reports
