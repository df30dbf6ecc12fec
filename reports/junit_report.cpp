// JUnit XML in the Jenkins/Ant dialect (schema/junit.xsd), which GitLab,
// GitHub Actions reporters, Jenkins and Buildkite all read: one testsuite for
// the experiment, one testcase per SLO, one for rollback, and one for the run
// itself when it errored or was aborted.
#include <cmath>
#include <sstream>

#include "reports/renderers.h"
#include "reports/text.h"
#include "reports/verdict.h"

namespace faultline::reports {
namespace {

using text::xml;
using text::xml_attr;

std::string seconds_attr(double s) { return text::number(std::isfinite(s) && s > 0 ? s : 0, 3); }

struct Case {
  std::string name;
  double time = 0;
  std::string outcome;  // "" (passed) | failure | error | skipped
  std::string type;
  std::string message;
  std::string body;
};

std::vector<Case> cases(const RunRecord& r) {
  std::vector<Case> out;
  for (const auto& s : r.slos) {
    Case c{s.name, 0, "", "slo", "", ""};
    if (s.deciding_span) c.time = s.deciding_span->to - s.deciding_span->from;
    std::string body = s.description;
    if (!s.detail.empty()) body += (body.empty() ? "" : "\n") + s.detail;
    if (s.deciding_span) {
      body += (body.empty() ? "" : "\n") + std::string("deciding span: ") +
              text::seconds(s.deciding_span->from) + " to " + text::seconds(s.deciding_span->to);
    }
    if (!slo_evaluated(r, s)) {
      c.outcome = "skipped";
      c.message = "not evaluated: the run " + std::string(r.result == "error" ? "failed" : "was") +
                  " " + (r.result == "error" ? "with an error" : "aborted");
    } else if (!s.passed) {
      c.outcome = "failure";
      c.message = slo_measure_text(s);
      c.body = body;
    }
    out.push_back(std::move(c));
  }

  Case rollback{"rollback", 0, "", "rollback", "", ""};
  for (const auto& p : r.phases) {
    if (p.name == "rollback") rollback.time = p.ended - p.started;
  }
  if (!r.rollback.complete) {
    size_t n = r.rollback.remaining.size();
    rollback.outcome = "failure";
    rollback.message = "rollback incomplete: " + std::to_string(n) +
                       (n == 1 ? " change" : " changes") + " not undone; run `faultline recover`";
    for (const auto& item : r.rollback.remaining) rollback.body += item + "\n";
  }
  out.push_back(std::move(rollback));

  if (r.result == "error" || r.result == "aborted") {
    Case run{"run", r.duration_seconds, "error", r.result, verdict_sentence(r), ""};
    if (r.abort) {
      run.body = "condition: " + r.abort->condition + "\nat: " + text::seconds(r.abort->t) +
                 "\nvalue: " + r.abort->value + "\n" + r.abort->message;
    } else {
      run.body = r.error;
    }
    out.push_back(std::move(run));
  }
  return out;
}

}  // namespace

std::string render_junit(const RunRecord& r) {
  std::vector<Case> all = cases(r);
  int failures = 0, errors = 0, skipped = 0;
  for (const auto& c : all) {
    failures += c.outcome == "failure";
    errors += c.outcome == "error";
    skipped += c.outcome == "skipped";
  }
  std::string tests = std::to_string(all.size());
  std::string time = seconds_attr(r.duration_seconds);
  auto started = text::parse_rfc3339(r.started_at);

  std::ostringstream x;
  x << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x << "<testsuites name=\"faultline\" tests=\"" << tests << "\" failures=\"" << failures
    << "\" errors=\"" << errors << "\" time=\"" << time << "\">\n";
  x << "  <testsuite name=\"" << xml_attr(r.experiment) << "\" tests=\"" << tests
    << "\" failures=\"" << failures << "\" errors=\"" << errors << "\" skipped=\"" << skipped
    << "\" time=\"" << time << "\"";
  if (started) x << " timestamp=\"" << text::utc_timestamp(*started) << "\"";
  x << " hostname=\"" << xml_attr(r.cluster_context.empty() ? "unknown" : r.cluster_context)
    << "\" id=\"0\" package=\"faultline\">\n";

  x << "    <properties>\n";
  auto property = [&](const char* name, const std::string& value) {
    x << "      <property name=\"" << name << "\" value=\"" << xml_attr(value) << "\"/>\n";
  };
  property("result", r.result);
  property("exit_code", std::to_string(r.exit_code));
  property("run_id", r.run_id);
  property("experiment_file", r.experiment_file);
  property("script", r.script);
  property("cluster_context", r.cluster_context);
  property("cluster_server", r.cluster_server);
  property("kubernetes_version", r.kubernetes_version);
  property("faultline_version", r.faultline_version);
  property("started_at", r.started_at);
  property("ended_at", r.ended_at);
  property("faults", fault_summary(r));
  x << "    </properties>\n";

  for (const auto& c : all) {
    x << "    <testcase name=\"" << xml_attr(c.name) << "\" classname=\"" << xml_attr(r.experiment)
      << "\" time=\"" << seconds_attr(c.time) << "\"";
    if (c.outcome.empty()) {
      x << "/>\n";
      continue;
    }
    x << ">\n      <" << c.outcome << " message=\"" << xml_attr(c.message) << "\"";
    if (c.outcome != "skipped") x << " type=\"" << xml_attr(c.type) << "\"";
    if (c.body.empty()) {
      x << "/>\n";
    } else {
      x << ">" << xml(c.body) << "</" << c.outcome << ">\n";
    }
    x << "    </testcase>\n";
  }

  // The script log is what a CI reader opens next after a failure.
  x << "    <system-out>";
  for (const auto& line : r.log) x << xml(line) << "\n";
  x << "</system-out>\n";
  x << "  </testsuite>\n</testsuites>\n";
  return x.str();
}

}  // namespace faultline::reports
