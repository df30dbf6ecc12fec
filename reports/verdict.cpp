#include "reports/verdict.h"

#include "reports/fault_status.h"
#include "reports/text.h"

namespace faultline::reports {

std::string verdict_title(const RunRecord& r) {
  if (r.result == "passed") return "PASSED";
  if (r.result == "failed") return "FAILED";
  if (r.result == "aborted") return "ABORTED";
  if (r.result == "error") return "ERROR";
  if (r.result == "rollback_incomplete") return "ROLLBACK INCOMPLETE";
  return r.result.empty() ? "UNKNOWN" : r.result;
}

bool slo_evaluated(const RunRecord& r, const SloRecord& s) {
  bool stopped_early = r.result == "aborted" || r.result == "error";
  return s.passed || s.measured.has_value() || !stopped_early;
}

int failed_slo_count(const RunRecord& r) {
  int n = 0;
  for (const auto& s : r.slos) n += (!s.passed && slo_evaluated(r, s)) ? 1 : 0;
  return n;
}

std::string slo_measure_text(const SloRecord& s) {
  std::string measured = !s.measured_text.empty() ? s.measured_text
                         : s.measured             ? text::number(*s.measured)
                                                  : "nothing";
  return "measured " + measured + ", bound " + (s.bound_text.empty() ? "?" : s.bound_text);
}

FaultTally tally_faults(const RunRecord& r) {
  FaultTally t;
  for (const auto& f : r.faults) {
    ++t.total;
    auto status = parse_fault_status(f.status).value_or(FaultStatus::Applied);
    switch (status) {
      case FaultStatus::RolledBack:
        ++t.rolled_back;
        break;
      case FaultStatus::Failed:
        ++t.failed;
        break;
      case FaultStatus::NotReversible:
        ++t.not_reversible;
        break;
      case FaultStatus::Skipped:
      case FaultStatus::NotApplied:
        ++t.not_made;
        break;
      case FaultStatus::Applied:
      case FaultStatus::RollbackFailed:
        ++t.still_applied;
        break;
    }
  }
  return t;
}

std::string fault_summary(const RunRecord& r) {
  FaultTally t = tally_faults(r);
  if (t.total == 0) return "no faults applied";
  std::string out = std::to_string(t.total) + (t.total == 1 ? " fault" : " faults");
  std::string parts;
  auto add = [&](int n, const char* what) {
    if (n == 0) return;
    parts += (parts.empty() ? "" : ", ") + std::to_string(n) + " " + what;
  };
  add(t.rolled_back, "rolled back");
  add(t.not_reversible, "not reversible");
  add(t.failed, "failed to apply");
  add(t.not_made, "not made");
  add(t.still_applied, "still applied");
  return out + ": " + parts;
}

std::string verdict_sentence(const RunRecord& r) {
  int total = static_cast<int>(r.slos.size());
  int failed = failed_slo_count(r);
  if (r.result == "passed") {
    return total == 1 ? "The SLO was met." : "All " + std::to_string(total) + " SLOs were met.";
  }
  if (r.result == "failed") {
    std::string out = std::to_string(failed) + " of " + std::to_string(total) +
                      (total == 1 ? " SLO" : " SLOs") + " failed";
    std::string sep = ": ";
    for (const auto& s : r.slos) {
      if (s.passed || !slo_evaluated(r, s)) continue;
      out += sep + s.name + " " + slo_measure_text(s);
      sep = "; ";
    }
    return out + ".";
  }
  if (r.result == "aborted") {
    if (!r.abort) return "The run was aborted." + (r.error.empty() ? "" : " " + r.error);
    std::string out = "Aborted at " + text::seconds(r.abort->t) + ": " + r.abort->condition;
    if (!r.abort->value.empty()) out += " (value " + r.abort->value + ")";
    if (!r.abort->message.empty()) out += " — " + r.abort->message;
    return out + ".";
  }
  if (r.result == "error") {
    return "The run failed with an error" + (r.error.empty() ? "." : ": " + r.error);
  }
  if (r.result == "rollback_incomplete") {
    size_t n = r.rollback.remaining.size();
    return "Rollback is incomplete: " + std::to_string(n) + (n == 1 ? " change" : " changes") +
           " could not be undone; run `faultline recover`.";
  }
  return "Result: " + r.result + ".";
}

}  // namespace faultline::reports
