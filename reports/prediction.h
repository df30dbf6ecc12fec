// Predicted vs measured, per SLO: the run record's optional `prediction`
// (what `faultline plan` said before the faults) graded against what the run
// measured. A mismatch is a finding about the model or about the cluster.
#pragma once

#include <string>
#include <vector>

#include "reports/run_record.h"

namespace faultline::reports {

struct PredictionRow {
  std::string slo;
  std::string predicted;  // pass | fail | unknown
  std::string why;        // the prediction's numbers or reason
  std::string measured;   // pass | fail | not evaluated
  std::string measured_text;
  std::string grade;  // match | MISMATCH | not predicted
};

// Empty when the record has no prediction. SLOs pair up by name.
std::vector<PredictionRow> prediction_rows(const RunRecord& r);
int prediction_mismatches(const RunRecord& r);

std::string prediction_html(const RunRecord& r);
std::string prediction_markdown(const RunRecord& r);

}  // namespace faultline::reports
