// A short Markdown summary for CI job summaries ($GITHUB_STEP_SUMMARY, GitLab
// notes) and chat: the verdict, the SLO table, faults, rollback, and why the
// run stopped. Everything from the record is escaped: a pod name must not
// become a link or break the table.
#include <sstream>

#include "reports/dr_section.h"
#include "reports/prediction.h"
#include "reports/renderers.h"
#include "reports/text.h"
#include "reports/verdict.h"

namespace faultline::reports {

std::string render_markdown(const RunRecord& r) {
  using text::markdown;
  const char* icon = r.result == "passed" ? "✅" : r.result == "failed" ? "❌" : "⚠️";
  std::ostringstream md;
  md << "### " << icon << " faultline " << markdown(r.experiment) << ": **" << verdict_title(r)
     << "**\n\n";
  md << markdown(verdict_sentence(r)) << "\n\n";

  md << "Cluster " << markdown(r.cluster_context.empty() ? "unknown" : r.cluster_context);
  if (!r.kubernetes_version.empty()) md << " (" << markdown(r.kubernetes_version) << ")";
  md << " · started " << markdown(r.started_at) << " · took " << text::seconds(r.duration_seconds)
     << " · exit code " << r.exit_code << "\n\n";

  if (!r.slos.empty()) {
    md << "| SLO | measured | bound | result |\n|---|---|---|---|\n";
    for (const auto& s : r.slos) {
      std::string verdict = !slo_evaluated(r, s) ? "⏭️ not evaluated"
                            : s.passed           ? "✅ pass"
                                                 : "❌ fail";
      std::string measured = !s.measured_text.empty() ? s.measured_text
                             : s.measured             ? text::number(*s.measured)
                                                      : "–";
      md << "| " << markdown(s.name) << " | " << markdown(measured) << " | "
         << markdown(s.bound_text) << " | " << verdict << " |\n";
    }
    md << "\n";
  }

  md << prediction_markdown(r);
  md << dr_markdown(r);
  md << "**Faults:** " << markdown(fault_summary(r)) << "  \n";
  if (r.rollback.complete) {
    md << "**Rollback:** complete\n";
  } else {
    md << "**Rollback:** ⚠️ incomplete — run `faultline recover`. Still to undo:\n";
    for (const auto& item : r.rollback.remaining) md << "- " << markdown(item) << "\n";
  }
  if (r.abort) {
    md << "\n**Aborted** at " << text::seconds(r.abort->t) << ": " << markdown(r.abort->condition);
    if (!r.abort->value.empty()) md << " (value " << markdown(r.abort->value) << ")";
    if (!r.abort->message.empty()) md << " — " << markdown(r.abort->message);
    md << "\n";
  }
  if (!r.error.empty()) md << "\n**Error:** " << markdown(r.error) << "\n";
  return md.str();
}

}  // namespace faultline::reports
