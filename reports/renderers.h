// The renderer behind each Format. Internal to reports/: callers use render().
#pragma once

#include <string>

#include "reports/run_record.h"

namespace faultline::reports {

std::string render_json(const RunRecord& r);
std::string render_junit(const RunRecord& r);
std::string render_markdown(const RunRecord& r);
std::string render_html(const RunRecord& r);

}  // namespace faultline::reports
