// Predicted vs measured, per SLO: the run record's optional `prediction`
// (what `faultline plan` said before the faults) graded against what the run
// measured. A mismatch is a finding about the model or about the cluster.
#pragma once

#include <optional>
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
  std::optional<double> predicted_value, measured_value;
  // match | MISMATCH (the verdicts differ) | "value differs" (same verdict,
  // but a count the model predicts exactly — min ready endpoints, min
  // healthy — came out otherwise) | not predicted
  std::string grade;
};

// Empty when the record has no prediction. SLOs pair up by name.
std::vector<PredictionRow> prediction_rows(const RunRecord& r);
// Rows graded MISMATCH or "value differs".
int prediction_mismatches(const RunRecord& r);

std::string prediction_html(const RunRecord& r);
std::string prediction_markdown(const RunRecord& r);

}  // namespace faultline::reports
