#include "reports/prediction.h"

#include <sstream>

#include "reports/text.h"
#include "reports/verdict.h"

namespace faultline::reports {

std::vector<PredictionRow> prediction_rows(const RunRecord& r) {
  std::vector<PredictionRow> rows;
  if (!r.prediction) return rows;
  json prediction = r.prediction->unpack();
  if (!prediction.is_object()) return rows;
  json slos = prediction.value("slos", json::array());
  for (size_t i = 0; i < slos.size(); ++i) {
    const json& p = slos[i];
    PredictionRow row;
    row.slo = p.value("name", "");
    row.predicted = p.value("verdict", "unknown");
    row.why = p.value("why", "");
    if (p.contains("predicted") && p["predicted"].is_number())
      row.predicted_value = p["predicted"].get<double>();
    // The run renames a pdb SLO after its PDB ("pdb" → "pdb(checkout)"):
    // pair by name, else by position (both follow the spec's order).
    const SloRecord* m = nullptr;
    for (const auto& s : r.slos)
      if (s.name == row.slo) m = &s;
    if (!m && i < r.slos.size() && slos.size() == r.slos.size()) m = &r.slos[i];
    if (!m || !slo_evaluated(r, *m)) {
      row.measured = "not evaluated";
    } else {
      row.measured = m->passed ? "pass" : "fail";
      row.measured_text = m->measured_text;
      row.measured_value = m->measured;
    }
    bool exact_count = m && (m->kind == "ready_endpoints" || m->kind == "pdb");
    if (row.predicted == "unknown" || row.measured == "not evaluated")
      row.grade = "not predicted";
    else if (row.predicted != row.measured)
      row.grade = "MISMATCH";
    else if (exact_count && row.predicted_value && row.measured_value &&
             *row.predicted_value != *row.measured_value)
      row.grade = "value differs";
    else
      row.grade = "match";
    rows.push_back(row);
  }
  return rows;
}

namespace {
// The rows' mismatches: the html and markdown sections count the rows they
// already made (each prediction_rows unpacks the prediction).
int mismatches_in(const std::vector<PredictionRow>& rows) {
  int n = 0;
  for (const auto& row : rows)
    n += (row.grade == "MISMATCH" || row.grade == "value differs") ? 1 : 0;
  return n;
}
}  // namespace

int prediction_mismatches(const RunRecord& r) { return mismatches_in(prediction_rows(r)); }

std::string prediction_html(const RunRecord& r) {
  auto rows = prediction_rows(r);
  if (rows.empty()) return "";
  using text::html;
  std::ostringstream h;
  int mismatches = mismatches_in(rows);
  h << "<section id=\"prediction\"><h2>Predicted vs measured</h2>\n";
  if (mismatches > 0)
    h << "<p class=\"fail\">" << mismatches
      << " prediction(s) did not match the run: a finding about the model or about the "
         "cluster.</p>\n";
  h << "<table><thead><tr><th>SLO</th><th>Predicted</th><th>Why</th><th>Measured</th><th>Grade</"
       "th></tr>"
       "</thead><tbody>\n";
  for (const auto& row : rows) {
    h << "<tr"
      << (row.grade == "MISMATCH" || row.grade == "value differs" ? " class=\"failed-row\"" : "")
      << "><td><strong>" << html(row.slo) << "</strong></td><td>" << html(row.predicted)
      << "</td><td>" << html(row.why) << "</td><td>" << html(row.measured)
      << (row.measured_text.empty() ? "" : " (" + html(row.measured_text) + ")") << "</td><td>"
      << html(row.grade) << "</td></tr>\n";
  }
  h << "</tbody></table></section>\n";
  return h.str();
}

std::string prediction_markdown(const RunRecord& r) {
  auto rows = prediction_rows(r);
  if (rows.empty()) return "";
  using text::markdown;
  std::ostringstream md;
  md << "**Predicted vs measured**";
  if (int n = mismatches_in(rows); n > 0) md << " — ⚠️ " << n << " mismatch(es)";
  md << "\n\n| SLO | predicted | measured | grade |\n|---|---|---|---|\n";
  for (const auto& row : rows)
    md << "| " << markdown(row.slo) << " | " << markdown(row.predicted + ": " + row.why) << " | "
       << markdown(row.measured + (row.measured_text.empty() ? "" : " (" + row.measured_text + ")"))
       << " | "
       << (row.grade == "MISMATCH"        ? "❌ MISMATCH"
           : row.grade == "value differs" ? "⚠️ value differs"
           : row.grade == "match"         ? "✅ match"
                                          : "–")
       << " |\n";
  md << "\n";
  return md.str();
}

}  // namespace faultline::reports
