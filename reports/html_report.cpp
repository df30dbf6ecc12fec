// The HTML report: one self-contained file for game days and post-mortems.
// Inline CSS, the chart as inline SVG drawn in C++, no script, no fonts, no
// external reference of any kind; a Content-Security-Policy of
// default-src 'none' makes the browser refuse anything that slips in. Every
// string from the record is escaped: a pod name or an event message may hold
// "<script>".
#include <algorithm>
#include <sstream>

#include "reports/fault_status.h"
#include "reports/dr_section.h"
#include "reports/prediction.h"
#include "reports/renderers.h"
#include "reports/text.h"
#include "reports/timeline_svg.h"
#include "reports/verdict.h"

namespace faultline::reports {
namespace {

using text::html;

constexpr const char* kStyle = R"css(
:root { --ok: #0a7d32; --bad: #c62828; --warn: #e65100; --muted: #5f6368; --line: #e3e5e8; }
* { box-sizing: border-box; }
body { margin: 0; background: #f3f4f6; color: #1d1d1f;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 20px; }
header.verdict { background: #fff; border-left: 10px solid var(--c); border-radius: 6px; padding: 16px 20px; }
.result-passed { --c: var(--ok); } .result-failed { --c: var(--bad); }
.result-aborted { --c: var(--warn); } .result-error { --c: #6a1b9a; }
.result-rollback_incomplete { --c: #8e0000; } .result-unknown { --c: var(--muted); }
.badge { display: inline-block; background: var(--c); color: #fff; font-weight: 700;
  letter-spacing: .06em; padding: 3px 10px; border-radius: 4px; }
h1 { font-size: 24px; margin: 8px 0 2px; overflow-wrap: anywhere; }
.sentence { font-size: 16px; margin: 2px 0 12px; overflow-wrap: anywhere; }
dl.meta { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 6px 18px; margin: 0; }
dt { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .04em; }
dd { margin: 0; overflow-wrap: anywhere; }
section { background: #fff; border-radius: 6px; margin-top: 14px; padding: 14px 20px; }
h2 { font-size: 17px; margin: 0 0 10px; }
.notice { border-left: 6px solid var(--c); }
.notice.abort { --c: var(--warn); } .notice.error, .notice.rollback { --c: var(--bad); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--line); }
th { background: #f0f2f5; font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: #444; }
td { overflow-wrap: break-word; }
td.name { overflow-wrap: anywhere; }  /* pod and node names: break anywhere rather than overflow */
td.t, td.num, td.verdict, td.enum { white-space: nowrap; font-variant-numeric: tabular-nums; }
.pass { color: var(--ok); font-weight: 600; } .fail { color: var(--bad); font-weight: 600; }
.skip { color: var(--muted); } .warning { color: var(--warn); font-weight: 600; }
tr.failed-row td { background: #fff4f4; }
.muted { color: var(--muted); }
code, pre { font: 12px/1.45 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f7f7f8; padding: 10px; margin: 0; }
svg.timeline { display: block; width: 100%; height: auto; }
.key { display: flex; flex-wrap: wrap; gap: 14px; margin: 6px 0 10px; font-size: 12px; color: var(--muted); }
.key i { display: inline-block; width: 14px; height: 0; border-top: 2px solid; vertical-align: middle; margin-right: 4px; }
footer { color: var(--muted); font-size: 12px; margin: 16px 0 4px; text-align: center; }
@page { size: A4; margin: 12mm; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { background: #fff; font-size: 11px; }
  main { max-width: none; padding: 0; }
  header.verdict, section { border-radius: 0; padding: 8px 0 8px 12px; margin-top: 10px; }
  section { border-top: 1px solid #ccc; }
  #timeline, header.verdict, .notice { break-inside: avoid; }
  h2 { break-after: avoid; }
  tr { break-inside: avoid; }
  thead { display: table-header-group; }
}
)css";

std::string result_class(const std::string& result) {
  for (const char* known : {"passed", "failed", "aborted", "error", "rollback_incomplete"}) {
    if (result == known) return std::string("result-") + known;
  }
  return "result-unknown";
}

void meta(std::ostringstream& h, const char* label, const std::string& value) {
  if (value.empty()) return;
  h << "<div><dt>" << label << "</dt><dd>" << html(value) << "</dd></div>\n";
}

void header(std::ostringstream& h, const RunRecord& r) {
  h << "<header class=\"verdict " << result_class(r.result) << "\">\n";
  h << "<span class=\"badge\">" << html(verdict_title(r)) << "</span>\n";
  h << "<h1>" << html(r.experiment) << "</h1>\n";
  h << "<p class=\"sentence\">" << html(verdict_sentence(r)) << "</p>\n<dl class=\"meta\">\n";
  meta(h, "Cluster", r.cluster_context);
  meta(h, "API server", r.cluster_server);
  meta(h, "Kubernetes", r.kubernetes_version);
  meta(h, "Started", r.started_at);
  meta(h, "Ended", r.ended_at);
  meta(h, "Duration", text::seconds(r.duration_seconds));
  meta(h, "Exit code", std::to_string(r.exit_code));
  meta(h, "Faults", fault_summary(r));
  meta(h, "Rollback", r.rollback.complete ? "complete" : "INCOMPLETE");
  meta(h, "Run", r.run_id);
  h << "</dl>\n</header>\n";
}

void notices(std::ostringstream& h, const RunRecord& r) {
  if (r.abort) {
    h << "<section class=\"notice abort\" id=\"abort\"><h2>Aborted at " << text::seconds(r.abort->t)
      << "</h2>\n<p>Stop condition <strong>" << html(r.abort->condition) << "</strong>";
    if (!r.abort->value.empty()) h << " breached (value " << html(r.abort->value) << ")";
    h << ".</p>\n";
    if (!r.abort->message.empty()) h << "<p>" << html(r.abort->message) << "</p>\n";
    h << "</section>\n";
  }
  if (!r.error.empty()) {
    h << "<section class=\"notice error\" id=\"error\"><h2>Error</h2>\n<pre>" << html(r.error)
      << "</pre></section>\n";
  }
  if (!r.rollback.complete) {
    h << "<section class=\"notice rollback\" id=\"rollback-incomplete\"><h2>Rollback "
         "incomplete</h2>\n<p>These changes are still in the cluster; run <code>faultline "
         "recover</code> to undo them:</p>\n<ul>\n";
    for (const auto& item : r.rollback.remaining) h << "<li>" << html(item) << "</li>\n";
    h << "</ul></section>\n";
  }
}

void slo_table(std::ostringstream& h, const RunRecord& r) {
  h << "<section id=\"slos\"><h2>Service level objectives</h2>\n";
  if (r.slos.empty()) {
    h << "<p class=\"muted\">No SLOs were evaluated.</p></section>\n";
    return;
  }
  h << "<table><thead><tr><th>SLO</th><th>Result</th><th>Measured</th><th>Bound</th>"
       "<th>Deciding span</th><th>Detail</th></tr></thead><tbody>\n";
  for (const auto& s : r.slos) {
    bool evaluated = slo_evaluated(r, s);
    h << "<tr" << (evaluated && !s.passed ? " class=\"failed-row\"" : "") << "><td><strong>"
      << html(s.name) << "</strong>";
    if (!s.description.empty())
      h << "<br><span class=\"muted\">" << html(s.description) << "</span>";
    h << "</td><td class=\"verdict\">"
      << (!evaluated ? "<span class=\"skip\">not evaluated</span>"
          : s.passed ? "<span class=\"pass\">✔ pass</span>"
                     : "<span class=\"fail\">✘ fail</span>")
      << "</td><td class=\"num\">"
      << html(!s.measured_text.empty() ? s.measured_text
              : s.measured             ? text::number(*s.measured)
                                       : "–")
      << "</td><td class=\"num\">" << html(s.bound_text) << "</td><td class=\"t\">";
    if (s.deciding_span) {
      h << text::seconds(s.deciding_span->from) << " – " << text::seconds(s.deciding_span->to);
    }
    h << "</td><td>" << html(s.detail) << "</td></tr>\n";
  }
  h << "</tbody></table></section>\n";
}

void timeline(std::ostringstream& h, const RunRecord& r) {
  h << "<section id=\"timeline\"><h2>Timeline</h2>\n";
  h << "<div class=\"key\"><span><i style=\"border-color:#d62728\"></i>fault</span>"
       "<span><i style=\"border-color:#0a7d32\"></i>rollback</span>"
       "<span><i style=\"border-color:#000\"></i>abort</span>"
       "<span><i style=\"border-color:#8a8a8a;border-top-style:dotted\"></i>phase</span>"
       "<span><i style=\"border-color:#d62728;border-top-style:dashed\"></i>SLO bound</span>"
       "<span>shaded: span that failed an SLO</span></div>\n";
  h << timeline_svg(r);
  if (!r.markers.empty()) {
    std::vector<size_t> order(r.markers.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return r.markers[a].t < r.markers[b].t; });
    h << "<table class=\"markers\"><thead><tr><th>#</th><th>Time</th><th>Kind</th><th>What</th>"
         "</tr></thead><tbody>\n";
    int n = 0;
    for (size_t i : order) {
      const Marker& m = r.markers[i];
      h << "<tr><td class=\"num\">" << ++n << "</td><td class=\"t\">" << text::seconds(m.t)
        << "</td><td>" << html(m.kind) << "</td><td>" << html(m.label) << "</td></tr>\n";
    }
    h << "</tbody></table>\n";
  }
  h << "</section>\n";
}

void phases(std::ostringstream& h, const RunRecord& r) {
  if (r.phases.empty()) return;
  h << "<section id=\"phases\"><h2>Phases</h2>\n<table><thead><tr><th>Phase</th><th>From</th>"
       "<th>To</th><th>Status</th><th>Message</th></tr></thead><tbody>\n";
  for (const auto& p : r.phases) {
    const char* cls = p.status == "ok" ? "pass" : p.status == "skipped" ? "skip" : "fail";
    h << "<tr><td>" << html(p.name) << "</td><td class=\"t\">" << text::seconds(p.started)
      << "</td><td class=\"t\">" << text::seconds(p.ended) << "</td><td class=\"" << cls << "\">"
      << html(p.status) << "</td><td>" << html(p.message) << "</td></tr>\n";
  }
  h << "</tbody></table></section>\n";
}

void fault_log(std::ostringstream& h, const RunRecord& r) {
  h << "<section id=\"faults\"><h2>Fault log</h2>\n";
  if (r.faults.empty()) {
    h << "<p class=\"muted\">No faults were applied.</p></section>\n";
    return;
  }
  h << "<table><thead><tr><th>#</th><th>Applied</th><th>Action</th><th>Target</th>"
       "<th>Rolled back</th><th>Status</th><th>Detail</th></tr></thead><tbody>\n";
  for (const auto& f : r.faults) {
    bool bad = f.status == "failed" || f.status == "rollback_failed" || f.status == "applied";
    h << "<tr" << (bad ? " class=\"failed-row\"" : "") << "><td class=\"num\">" << f.id
      << "</td><td class=\"t\">" << (fault_made(f.status) ? text::seconds(f.applied) : "–")
      << "</td><td class=\"enum\">" << html(f.action) << "</td><td class=\"name\">"
      << html(f.target) << "</td><td class=\"t\">"
      << (f.rolled_back ? text::seconds(*f.rolled_back) : "–") << "</td><td class=\"enum "
      << (bad ? "fail" : "pass") << "\">" << html(f.status) << "</td><td class=\"name\">";
    if (!f.error.empty()) h << "<span class=\"fail\">" << html(f.error) << "</span><br>";
    if (f.detail.is_object() && !f.detail.empty()) {
      h << "<code>" << html(f.detail.dump(-1, ' ', false, json::error_handler_t::replace))
        << "</code>";
    }
    h << "</td></tr>\n";
  }
  h << "</tbody></table></section>\n";
}

void events(std::ostringstream& h, const RunRecord& r) {
  h << "<section id=\"events\"><h2>Kubernetes events</h2>\n";
  if (r.events.empty()) {
    h << "<p class=\"muted\">No events were seen on the target.</p></section>\n";
    return;
  }
  h << "<table><thead><tr><th>Time</th><th>Type</th><th>Reason</th><th>Object</th>"
       "<th>Message</th></tr></thead><tbody>\n";
  for (const auto& e : r.events) {
    h << "<tr><td class=\"t\">" << text::seconds(e.t) << "</td><td class=\"enum"
      << (e.type == "Warning" ? " warning" : "") << "\">" << html(e.type) << "</td><td>"
      << html(e.reason) << "</td><td class=\"name\">" << html(e.object) << "</td><td>"
      << html(e.message) << "</td></tr>\n";
  }
  h << "</tbody></table></section>\n";
}

void script_log(std::ostringstream& h, const RunRecord& r) {
  h << "<section id=\"log\"><h2>Script log</h2>\n";
  if (r.log.empty()) {
    h << "<p class=\"muted\">The script logged nothing.</p></section>\n";
    return;
  }
  h << "<pre>";
  for (const auto& line : r.log) h << html(line) << "\n";
  h << "</pre></section>\n";
}

void run_details(std::ostringstream& h, const RunRecord& r) {
  auto dump = [](const json& j) { return j.dump(2, ' ', false, json::error_handler_t::replace); };
  h << "<section id=\"run\"><h2>Run</h2>\n<dl class=\"meta\">\n";
  meta(h, "Experiment file", r.experiment_file);
  meta(h, "Script", r.script);
  meta(h, "Run id", r.run_id);
  meta(h, "faultline", r.faultline_version);
  meta(h, "Result", r.result);
  h << "</dl>\n";
  h << "<h3>Target</h3><pre>" << html(dump(r.target)) << "</pre>\n";
  h << "<h3>Parameters</h3><pre>" << html(dump(r.params)) << "</pre>\n</section>\n";
}

}  // namespace

std::string render_html(const RunRecord& r) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
       "'unsafe-inline'\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<title>" << html(verdict_title(r)) << " · " << html(r.experiment)
    << " · faultline</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n<main>\n";
  header(h, r);
  notices(h, r);
  slo_table(h, r);
  h << prediction_html(r);
  h << dr_html(r);
  timeline(h, r);
  phases(h, r);
  fault_log(h, r);
  events(h, r);
  script_log(h, r);
  run_details(h, r);
  h << "<footer>faultline " << html(r.faultline_version) << " · run " << html(r.run_id)
    << "</footer>\n</main>\n</body>\n</html>\n";
  return h.str();
}

}  // namespace faultline::reports
