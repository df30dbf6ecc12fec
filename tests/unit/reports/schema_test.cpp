// report.json against reports/schema/report.schema.json, checked by the real
// python3-jsonschema (draft 2020-12). The negative cases prove the check can
// fail, and that the schema and from_json agree on what is required.
#include <gtest/gtest.h>

#include "reports/fault_status.h"
#include "reports/render.h"
#include "reports/run_record.h"
#include "reports/verdict.h"
#include "runner/common/error.h"
#include "tests/unit/reports/sample_record.h"
#include "tests/unit/reports/tools.h"

namespace faultline::reports {
namespace {

using testing::Outcome;

testing::CommandResult validate(const std::vector<std::string>& files) {
  std::vector<std::string> argv = {"/usr/bin/python3",
                                   testing::source_dir() + "/tests/unit/reports/validate_json.py",
                                   testing::source_dir() + "/reports/schema/report.schema.json"};
  argv.insert(argv.end(), files.begin(), files.end());
  return testing::run_command(argv, 60);
}

TEST(ReportSchema, EveryRenderedReportValidates) {
  testing::TempDir dir;
  std::vector<std::string> files;
  int n = 0;
  for (Outcome o : {Outcome::Passed, Outcome::Failed, Outcome::Aborted, Outcome::Error,
                    Outcome::RollbackIncomplete}) {
    files.push_back(dir.file("report-" + std::to_string(n++) + ".json"));
    testing::write_file(files.back(), render(testing::zone_outage_run(o), Format::Json));
  }
  files.push_back(dir.file("hostile.json"));
  testing::write_file(files.back(), render(testing::hostile_run(), Format::Json));
  // A minimal record: no faults, no series, nothing optional.
  RunRecord minimal;
  minimal.experiment = "minimal";
  minimal.started_at = minimal.ended_at = "2025-03-04T02:00:00Z";
  minimal.result = "error";
  minimal.exit_code = 2;
  files.push_back(dir.file("minimal.json"));
  testing::write_file(files.back(), render(minimal, Format::Json));

  auto result = validate(files);
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  for (const auto& f : files) EXPECT_NE(result.out.find(f + ": valid"), std::string::npos) << f;
}

// Each broken record must fail the schema AND be refused by from_json.
TEST(ReportSchema, BrokenRecordsFailValidationAndAreRefusedByFromJson) {
  testing::TempDir dir;
  json good = to_json(testing::zone_outage_run(Outcome::Failed));
  std::vector<std::pair<std::string, json>> broken;
  for (auto it = good.begin(); it != good.end(); ++it) {
    json j = good;
    j.erase(it.key());
    broken.emplace_back("without-" + it.key(), j);
  }
  auto mutated = [&](const std::string& name, auto mutate) {
    json j = good;
    mutate(j);
    broken.emplace_back(name, j);
  };
  mutated("result-enum", [](json& j) { j["result"] = "exploded"; });
  mutated("passed-type", [](json& j) { j["slos"][0]["passed"] = "no"; });
  mutated("extra-field", [](json& j) { j["surprise"] = true; });
  mutated("extra-slo-field", [](json& j) { j["slos"][0]["surprise"] = true; });
  mutated("bad-time", [](json& j) { j["ended_at"] = "2025-03-04 02:02"; });
  mutated("point-triple", [](json& j) { j["series"][0]["points"][0] = {0, 1, 2}; });
  mutated("fault-status", [](json& j) { j["faults"][0]["status"] = "done"; });
  mutated("negative-duration", [](json& j) { j["duration_seconds"] = -1; });
  mutated("schema-version", [](json& j) { j["schema_version"] = 2; });
  mutated("ratio", [](json& j) { j["availability_ratio"] = 1.5; });

  std::vector<std::string> files;
  for (const auto& [name, j] : broken) {
    files.push_back(dir.file(name + ".json"));
    testing::write_file(files.back(), j.dump(2));
    EXPECT_THROW(from_json(j), InputError) << name;
  }
  auto result = validate(files);
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  for (const auto& f : files) {
    EXPECT_NE(result.out.find(f + ": INVALID"), std::string::npos) << f << "\n" << result.out;
  }
}

// One source of truth for fault states: the schema's enum is exactly the
// list the writer and the reader use, and a record with a fault in every
// state is valid, reads back, and renders the right headline.
TEST(ReportSchema, FaultStates_SchemaWriterAndReaderAgreeOnEveryState) {
  json schema =
      json::parse(testing::read_file(testing::source_dir() + "/reports/schema/report.schema.json"));
  std::vector<std::string> in_schema =
      schema["properties"]["faults"]["items"]["properties"]["status"]["enum"]
          .get<std::vector<std::string>>();
  EXPECT_EQ(in_schema, fault_status_names());

  RunRecord r = testing::zone_outage_run(Outcome::Passed);
  r.faults.clear();
  int id = 0;
  for (const auto& s : kFaultStatuses) {
    FaultRecord f;
    f.id = ++id;
    f.action = "cordon_node";
    f.target = "node/zone-a-" + std::to_string(id);
    f.status = std::string(s.name);
    r.faults.push_back(f);
  }
  std::string text = render(r, Format::Json);
  RunRecord back = from_json(json::parse(text));
  ASSERT_EQ(back.faults.size(), kFaultStatuses.size());
  for (size_t i = 0; i < kFaultStatuses.size(); ++i)
    EXPECT_EQ(back.faults[i].status, kFaultStatuses[i].name);

  testing::TempDir dir;
  std::string file = dir.file("every-state.json");
  testing::write_file(file, text);
  auto result = validate({file});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;

  EXPECT_EQ(
      fault_summary(r),
      "7 faults: 1 rolled back, 1 not reversible, 1 failed to apply, 2 not made, 2 still applied");
}

}  // namespace
}  // namespace faultline::reports
