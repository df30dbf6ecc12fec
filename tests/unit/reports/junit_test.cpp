// junit.xml checked by libxml2's xmllint: against reports/schema/junit.xsd,
// and read back with XPath so the assertions go through a real XML parser.
#include <gtest/gtest.h>

#include "reports/render.h"
#include "tests/unit/reports/sample_record.h"
#include "tests/unit/reports/tools.h"

namespace faultline::reports {
namespace {

using testing::Outcome;

std::string xsd() { return testing::source_dir() + "/reports/schema/junit.xsd"; }

testing::CommandResult xmllint_schema(const std::string& file) {
  return testing::run_command({"xmllint", "--noout", "--schema", xsd(), file}, 60);
}

// The string value of an XPath expression over file.
std::string xpath(const std::string& file, const std::string& expr) {
  auto r = testing::run_command({"xmllint", "--xpath", "string(" + expr + ")", file}, 60);
  EXPECT_EQ(r.exit_code, 0) << expr << ": " << r.err;
  // xmllint ends its answer with a newline of its own.
  if (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

std::string write_junit(const testing::TempDir& dir, const RunRecord& r, const std::string& name) {
  std::string path = dir.file(name + ".xml");
  testing::write_file(path, render(r, Format::Junit));
  return path;
}

class JunitValidates : public ::testing::TestWithParam<Outcome> {};

TEST_P(JunitValidates, AgainstTheJunitSchema) {
  testing::TempDir dir;
  std::string path = write_junit(dir, testing::zone_outage_run(GetParam()), "junit");
  auto r = xmllint_schema(path);
  EXPECT_EQ(r.exit_code, 0) << r.err << "\n" << testing::read_file(path);
  EXPECT_NE(r.err.find("validates"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(EveryOutcome, JunitValidates,
                         ::testing::Values(Outcome::Passed, Outcome::Failed, Outcome::Aborted,
                                           Outcome::Error, Outcome::RollbackIncomplete),
                         [](const auto& info) { return testing::outcome_name(info.param); });

TEST(Junit, SchemaRejectsAMalformedReport) {
  testing::TempDir dir;
  std::string xml = render(testing::zone_outage_run(Outcome::Failed), Format::Junit);
  // A testcase without its required name, and a count that is not a number.
  std::string broken = xml;
  broken.replace(broken.find("<testcase name="), 15, "<testcase label=");
  std::string path = dir.file("broken.xml");
  testing::write_file(path, broken);
  EXPECT_NE(xmllint_schema(path).exit_code, 0);

  broken = xml;
  broken.replace(broken.find("tests=\"4\""), 9, "tests=\"four\"");
  testing::write_file(path, broken);
  EXPECT_NE(xmllint_schema(path).exit_code, 0);
}

TEST(Junit, FailedSloIsAFailureWithMeasuredAndBound) {
  testing::TempDir dir;
  std::string path = write_junit(dir, testing::zone_outage_run(Outcome::Failed), "failed");
  EXPECT_EQ(xpath(path, "count(/testsuites/testsuite)"), "1");
  EXPECT_EQ(xpath(path, "/testsuites/testsuite/@name"), "checkout-zone-outage");
  EXPECT_EQ(xpath(path, "/testsuites/testsuite/@tests"), "4");
  EXPECT_EQ(xpath(path, "/testsuites/testsuite/@failures"), "1");
  EXPECT_EQ(xpath(path, "/testsuites/testsuite/@errors"), "0");
  EXPECT_EQ(xpath(path, "/testsuites/testsuite/@timestamp"), "2025-03-04T02:00:00");
  EXPECT_EQ(xpath(path, "//testcase[@name='availability(http)']/failure/@message"),
            "measured 98.41%, bound >= 99.5%");
  EXPECT_EQ(xpath(path, "count(//testcase[@name='replacement']/*)"), "0");
  EXPECT_EQ(xpath(path, "count(//testcase[@name='rollback']/*)"), "0");
  EXPECT_EQ(xpath(path, "count(//testcase[@name='run'])"), "0");
  EXPECT_NE(xpath(path, "//system-out").find("cordoning zone zone-a"), std::string::npos);
}

TEST(Junit, IncompleteRollbackFailsTheRollbackCase) {
  testing::TempDir dir;
  std::string path =
      write_junit(dir, testing::zone_outage_run(Outcome::RollbackIncomplete), "rollback");
  EXPECT_EQ(xpath(path, "//testcase[@name='rollback']/failure/@message"),
            "rollback incomplete: 1 change not undone; run `faultline recover`");
  EXPECT_NE(
      xpath(path, "//testcase[@name='rollback']/failure").find("node/zone-a-2 still cordoned"),
      std::string::npos);
}

TEST(Junit, AbortedRunIsAnErrorAndItsSlosAreSkipped) {
  testing::TempDir dir;
  std::string path = write_junit(dir, testing::zone_outage_run(Outcome::Aborted), "aborted");
  EXPECT_EQ(xpath(path, "//testcase[@name='run']/error/@type"), "aborted");
  EXPECT_NE(xpath(path, "//testcase[@name='run']/error/@message")
                .find("availability(http) below 90% over 10s (value 71.4%)"),
            std::string::npos);
  EXPECT_EQ(xpath(path, "count(//testcase/skipped)"), "3");
  EXPECT_EQ(xpath(path, "/testsuites/testsuite/@errors"), "1");
  EXPECT_EQ(xpath(path, "/testsuites/testsuite/@skipped"), "3");
}

TEST(Junit, ErrorRunHasAnErrorCaseWithTheCause) {
  testing::TempDir dir;
  std::string path = write_junit(dir, testing::zone_outage_run(Outcome::Error), "error");
  EXPECT_EQ(xpath(path, "//testcase[@name='run']/error/@type"), "error");
  EXPECT_EQ(xpath(path, "//testcase[@name='run']/error"),
            "GET https://127.0.0.1:6443/api/v1/nodes: 503 Service Unavailable");
}

TEST(Junit, HostileStringsStayWellFormedAndReadBackExactly) {
  testing::TempDir dir;
  std::string path = write_junit(dir, testing::hostile_run(), "hostile");
  auto r = xmllint_schema(path);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(xpath(path, "/testsuites/testsuite/@name"), testing::kHostileExperiment);
  EXPECT_EQ(xpath(path, "count(//script)"), "0");
  EXPECT_EQ(xpath(path, "//testcase[1]/failure"),
            "HTTP probe success ratio via the Service\n]]><!-- --> & \"quoted\" 'single'\n"
            "deciding span: 22s to 35s");
}

}  // namespace
}  // namespace faultline::reports
