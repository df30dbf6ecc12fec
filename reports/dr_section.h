// The restore drill's section of the HTML and Markdown reports: RTO, RPO,
// each backup and restore with its outcome and reason, the data check's
// mismatches (object names only: the record holds no Secret value), and the
// restore timeline. Empty when the record has no `dr`.
#pragma once

#include <string>

#include "reports/run_record.h"

namespace faultline::reports {

std::string dr_html(const RunRecord& r);
std::string dr_markdown(const RunRecord& r);

}  // namespace faultline::reports
