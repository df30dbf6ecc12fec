// The run record's optional `prediction`: kept through JSON, absent from
// records that have none, and graded per SLO in HTML and Markdown with a
// mismatch called out.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "reports/prediction.h"
#include "reports/render.h"
#include "reports/run_record.h"
#include "tests/test_paths.h"

namespace faultline::reports {
namespace {

RunRecord record() {
  RunRecord r;
  r.run_id = "r1";
  r.experiment = "e";
  r.result = "failed";
  r.started_at = r.ended_at = "2026-12-01T11:00:00Z";
  SloRecord ready{"ready_endpoints(checkout)",
                  "ready_endpoints",
                  "",
                  4,
                  "min 4",
                  ">= 2 ready",
                  true,
                  std::nullopt,
                  ""};
  SloRecord repl{"replacement", "replacement", "", std::nullopt, "not replaced", "<= 10s",
                 false,         std::nullopt,  ""};
  r.slos = {ready, repl};
  r.phases = {{"verify", 0, 1, "ok", ""}};
  r.prediction = json{{"verdict", "pass"},
                      {"slos",
                       {{{"name", "ready_endpoints(checkout)"},
                         {"verdict", "pass"},
                         {"why", "min 4 ready"},
                         {"predicted", 4}},
                        {{"name", "replacement"},
                         {"verdict", "pass"},
                         {"why", "every displaced pod fits"},
                         {"predicted", 2}}}}};
  return r;
}

TEST(PredictionReport, RowsGradeEachSloAndFlagTheMismatch) {
  auto rows = prediction_rows(record());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].grade, "match");
  EXPECT_EQ(rows[1].grade, "MISMATCH");
  EXPECT_EQ(rows[1].measured, "fail");
  EXPECT_EQ(prediction_mismatches(record()), 1);
}

TEST(PredictionReport, AnExactCountThatCameOutOtherwiseIsCalledOut) {
  RunRecord r = record();
  r.slos[0].measured = 3;  // predicted min 4 ready endpoints, both pass
  auto rows = prediction_rows(r);
  EXPECT_EQ(rows[0].grade, "value differs");
  EXPECT_EQ(prediction_mismatches(r), 2);
  EXPECT_NE(render(r, Format::Markdown).find("⚠️ value differs"), std::string::npos);
}

TEST(PredictionReport, SurvivesTheJsonRoundTripAndIsAbsentWhenNone) {
  RunRecord r = record();
  RunRecord back = from_json(to_json(r));
  ASSERT_TRUE(back.prediction.has_value());
  EXPECT_EQ(*back.prediction, *r.prediction);
  r.prediction.reset();
  EXPECT_FALSE(to_json(r).contains("prediction"));
  EXPECT_FALSE(from_json(to_json(r)).prediction.has_value());
  json bad = to_json(record());
  bad["prediction"] = "yes";
  EXPECT_THROW(from_json(bad), std::exception);
}

TEST(PredictionReport, HtmlAndMarkdownShowPredictedVsMeasured) {
  std::string html = render(record(), Format::Html);
  EXPECT_NE(html.find("<h2>Predicted vs measured</h2>"), std::string::npos);
  EXPECT_NE(html.find("1 prediction(s) did not match the run"), std::string::npos);
  std::string md = render(record(), Format::Markdown);
  EXPECT_NE(md.find("**Predicted vs measured** — ⚠️ 1 mismatch(es)"), std::string::npos)
      << md;
  EXPECT_NE(md.find("❌ MISMATCH"), std::string::npos) << md;
  RunRecord none = record();
  none.prediction.reset();
  EXPECT_EQ(render(none, Format::Html).find("Predicted vs measured"), std::string::npos);
}

// The record with its prediction validates against the schema (the real
// python3-jsonschema, as tests/unit/reports does); a prediction without its
// verdict does not.
TEST(PredictionReport, ValidatesAgainstTheReportSchema) {
  std::string src = faultline::test_paths::source_dir();
  std::string file = "/tmp/faultline-prediction-" + std::to_string(getpid()) + ".json";
  auto validate = [&](const json& j) {
    std::ofstream(file) << j.dump();
    std::string cmd = "python3 " + src + "/tests/unit/reports/validate_json.py " + src +
                      "/reports/schema/report.schema.json " + file + " >/dev/null 2>&1";
    return std::system(cmd.c_str());
  };
  json good = to_json(record());
  EXPECT_EQ(validate(good), 0);
  json bad = good;
  bad["prediction"].erase("verdict");
  EXPECT_NE(validate(bad), 0);
  std::remove(file.c_str());
}

}  // namespace
}  // namespace faultline::reports
