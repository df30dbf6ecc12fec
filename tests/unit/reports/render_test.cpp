#include "reports/render.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "reports/output_error.h"
#include "tests/unit/reports/sample_record.h"
#include "tests/unit/reports/tools.h"

namespace faultline::reports {
namespace {

TEST(Render, ParsesFormatNames) {
  EXPECT_EQ(parse_format("json"), Format::Json);
  EXPECT_EQ(parse_format("junit"), Format::Junit);
  EXPECT_EQ(parse_format("html"), Format::Html);
  EXPECT_EQ(parse_format("md"), Format::Markdown);
  EXPECT_EQ(parse_format("markdown"), Format::Markdown);
  EXPECT_EQ(parse_format("pdf"), std::nullopt);
  EXPECT_EQ(parse_format("HTML"), std::nullopt);
  EXPECT_EQ(parse_format(""), std::nullopt);
}

// The JSON report is written a part at a time (issue 14), and must be the
// very text of the whole record's DOM: every outcome, the hostile strings
// (invalid UTF-8 replaced the same way), a restore drill, a prediction, and
// a record with its bulk parts empty.
TEST(Render, JsonReportIsTheWholeRecordsDumpByteForByte) {
  std::vector<RunRecord> records = {testing::hostile_run(), testing::restore_drill_run()};
  for (auto o : {testing::Outcome::Passed, testing::Outcome::Failed, testing::Outcome::Aborted,
                 testing::Outcome::Error, testing::Outcome::RollbackIncomplete})
    records.push_back(testing::zone_outage_run(o));
  records.back().prediction = json{{"verdict", "fail"}, {"slos", json::array({{{"why", "a\nb"}}})}};
  RunRecord empty = testing::zone_outage_run();
  empty.faults.clear();
  empty.series.clear();
  empty.events.clear();
  empty.log.clear();
  records.push_back(empty);
  for (const auto& r : records) {
    const std::string whole = to_json(r).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
    EXPECT_EQ(render(r, Format::Json), whole) << r.experiment << " " << r.result;
  }
}

TEST(Render, WriteAllWritesTheFourFilesIntoANewDirectory) {
  testing::TempDir tmp;
  std::string dir = tmp.file("faultline-reports/checkout-zone-outage-20250304T020000Z");
  RunRecord r = testing::zone_outage_run(testing::Outcome::Failed);
  write_all(r, dir);
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names,
            (std::vector<std::string>{"junit.xml", "report.html", "report.json", "summary.md"}));
  for (Format f : {Format::Json, Format::Junit, Format::Html, Format::Markdown}) {
    EXPECT_EQ(testing::read_file(dir + "/" + file_name(f)), render(r, f)) << file_name(f);
  }
}

TEST(Render, WriteAllNamesThePathItCannotWrite) {
  testing::TempDir tmp;
  testing::write_file(tmp.file("occupied"), "a file, not a directory");
  std::string dir = tmp.file("occupied/reports");
  try {
    write_all(testing::zone_outage_run(), dir);
    FAIL() << "wrote under a regular file";
  } catch (const OutputError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("cannot create report directory " + dir + ": ", 0), 0u)
        << e.what();
  }
}

TEST(Render, WriteAllNamesTheFileItCannotReplace) {
  testing::TempDir tmp;
  // report.html is a non-empty directory: renaming the finished file over it fails.
  std::filesystem::create_directories(tmp.file("report.html/keep"));
  try {
    write_all(testing::zone_outage_run(), tmp.path());
    FAIL() << "replaced a directory";
  } catch (const OutputError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(tmp.file("report.html")), std::string::npos) << what;
  }
  EXPECT_FALSE(std::filesystem::exists(tmp.file("report.html.tmp")));
}

}  // namespace
}  // namespace faultline::reports
