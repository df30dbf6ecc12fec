#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "reports/render.h"
#include "reports/run_record.h"
#include "reports/run_record_io.h"
#include "runner/common/error.h"
#include "tests/unit/reports/sample_record.h"
#include "tests/unit/reports/tools.h"

namespace faultline::reports {
namespace {

using testing::Outcome;
using testing::zone_outage_run;

class RoundTrip : public ::testing::TestWithParam<Outcome> {};

TEST_P(RoundTrip, ToJsonFromJsonGivesTheSameRecord) {
  RunRecord original = zone_outage_run(GetParam());
  json first = to_json(original);
  RunRecord back = from_json(first);
  EXPECT_EQ(to_json(back), first);
  // And through text, as `faultline report` reads it.
  RunRecord reparsed = from_json(json::parse(render(original, Format::Json)));
  EXPECT_EQ(to_json(reparsed), first);

  EXPECT_EQ(back.result, original.result);
  EXPECT_EQ(back.abort.has_value(), original.abort.has_value());
  ASSERT_EQ(back.faults.size(), original.faults.size());
  for (size_t i = 0; i < back.faults.size(); ++i) {
    EXPECT_EQ(back.faults[i].rolled_back, original.faults[i].rolled_back);
    EXPECT_EQ(back.faults[i].detail, original.faults[i].detail);
  }
  ASSERT_EQ(back.slos.size(), original.slos.size());
  for (size_t i = 0; i < back.slos.size(); ++i) {
    EXPECT_EQ(back.slos[i].measured, original.slos[i].measured);
    EXPECT_EQ(back.slos[i].deciding_span.has_value(), original.slos[i].deciding_span.has_value());
  }
  EXPECT_EQ(back.availability_ratio, original.availability_ratio);
  EXPECT_EQ(back.rollback.remaining, original.rollback.remaining);
}

INSTANTIATE_TEST_SUITE_P(EveryOutcome, RoundTrip,
                         ::testing::Values(Outcome::Passed, Outcome::Failed, Outcome::Aborted,
                                           Outcome::Error, Outcome::RollbackIncomplete),
                         [](const auto& info) { return testing::outcome_name(info.param); });

TEST(RunRecordJson, GapInASeriesIsWrittenAsNullAndReadBackAsNaN) {
  RunRecord r = zone_outage_run();
  json j = to_json(r);
  EXPECT_TRUE(j["series"][1]["points"][70][1].is_null());
  RunRecord back = from_json(j);
  EXPECT_TRUE(std::isnan(back.series[1].points[70].second));
  EXPECT_DOUBLE_EQ(back.series[1].points[71].second, r.series[1].points[71].second);
}

struct Malformed {
  const char* name;
  std::function<void(json&)> mutate;
  const char* message;
};

class MalformedRecord : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedRecord, IsAnInputErrorNamingWhatIsWrong) {
  json j = to_json(zone_outage_run(Outcome::Failed));
  GetParam().mutate(j);
  try {
    from_json(j);
    FAIL() << "accepted a malformed record";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), GetParam().message);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MalformedRecord,
    ::testing::Values(
        Malformed{"NotAnObject", [](json& j) { j = json::array(); },
                  "run record: $: expected an object, got array"},
        Malformed{"MissingResult", [](json& j) { j.erase("result"); },
                  "run record: $.result: missing field"},
        Malformed{"UnknownResult", [](json& j) { j["result"] = "exploded"; },
                  "run record: $.result: expected one of "
                  "passed|failed|aborted|error|rollback_incomplete, got \"exploded\""},
        Malformed{"PassedIsAString", [](json& j) { j["slos"][1]["passed"] = "yes"; },
                  "run record: $.slos[1].passed: expected a boolean, got string"},
        Malformed{"PointIsNotAPair", [](json& j) { j["series"][0]["points"][3] = {1}; },
                  "run record: $.series[0].points[3]: expected a [t, value] pair"},
        Malformed{"PointValueIsAString", [](json& j) { j["series"][2]["points"][5][1] = "2"; },
                  "run record: $.series[2].points[5][1]: expected a number, got string"},
        Malformed{"UnknownField", [](json& j) { j["faults"][0]["extra"] = 1; },
                  "run record: $.faults[0].extra: unknown field"},
        Malformed{"NewerSchema", [](json& j) { j["schema_version"] = 2; },
                  "run record: $.schema_version: schema version 2 is not supported (this "
                  "faultline reads version 1)"},
        Malformed{"BadTime", [](json& j) { j["started_at"] = "yesterday"; },
                  "run record: $.started_at: expected an RFC 3339 time like "
                  "2024-05-14T02:00:00Z, got \"yesterday\""},
        Malformed{"FractionalExitCode", [](json& j) { j["exit_code"] = 1.5; },
                  "run record: $.exit_code: expected an integer, got number"},
        Malformed{"AbortIsAString", [](json& j) { j["abort"] = "yes"; },
                  "run record: $.abort: expected an object, got string"},
        Malformed{"MarkerKind", [](json& j) { j["markers"][0]["kind"] = "party"; },
                  "run record: $.markers[0].kind: expected one of "
                  "phase|fault|rollback|abort, got \"party\""},
        Malformed{"RatioAboveOne", [](json& j) { j["availability_ratio"] = 99.7; },
                  "run record: $.availability_ratio: expected a ratio from 0 to 1"},
        Malformed{"EmptyExperiment", [](json& j) { j["experiment"] = ""; },
                  "run record: $.experiment: must not be empty"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ReadRecord, ReadsWhatWriteAllWrote) {
  testing::TempDir dir;
  RunRecord r = zone_outage_run(Outcome::RollbackIncomplete);
  write_all(r, dir.path());
  RunRecord back = read_record(dir.file("report.json"));
  EXPECT_EQ(to_json(back), to_json(r));
}

TEST(ReadRecord, MissingFileNamesThePath) {
  testing::TempDir dir;
  std::string path = dir.file("nope.json");
  try {
    read_record(path);
    FAIL() << "read a missing file";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), path + ": cannot read: No such file or directory");
  }
}

TEST(ReadRecord, InvalidJsonNamesFileLineAndColumn) {
  testing::TempDir dir;
  std::string path = dir.file("report.json");
  testing::write_file(path, "{\n  \"schema_version\": 1,\n  \"result\": tru\n}\n");
  try {
    read_record(path);
    FAIL() << "parsed invalid JSON";
  } catch (const InputError& e) {
    std::string what = e.what();
    EXPECT_EQ(what.rfind(path + ":3:", 0), 0u) << what;
    EXPECT_NE(what.find("invalid JSON"), std::string::npos) << what;
    EXPECT_NE(what.find("tru"), std::string::npos) << what;
  }
}

TEST(ReadRecord, MalformedRecordNamesTheFileAndPath) {
  testing::TempDir dir;
  std::string path = dir.file("report.json");
  json j = to_json(zone_outage_run());
  j["slos"][2].erase("bound_text");
  testing::write_file(path, j.dump());
  try {
    read_record(path);
    FAIL() << "accepted a malformed record";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), path + ": $.slos[2].bound_text: missing field");
  }
}

}  // namespace
}  // namespace faultline::reports
