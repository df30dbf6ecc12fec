// Reading a run record back from report.json, for `faultline report`.
#pragma once

#include <string>

#include "reports/run_record.h"

namespace faultline::reports {

// from_json with `where` naming the source in errors ("report.json: $.slos[1]
// .passed: expected a boolean, got string"). Throws faultline::InputError.
RunRecord from_json(const json& j, const std::string& where);

// Reads and checks a report.json. Throws faultline::InputError naming the
// file: unreadable, invalid JSON (with line:column), or a malformed record.
RunRecord read_record(const std::string& path);

}  // namespace faultline::reports
