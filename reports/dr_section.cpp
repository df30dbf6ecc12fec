#include "reports/dr_section.h"

#include <sstream>

#include "reports/text.h"

namespace faultline::reports {
namespace {

std::string figure(const json& dr, const char* key) {
  return dr.contains(key) && dr[key].is_number() ? text::seconds(dr[key].get<double>())
                                                 : std::string("not measured");
}

// One line per restore: "name of backup into ns (cluster): ok | reason".
std::string restore_line(const json& restore) {
  std::string cluster = restore.value("cluster", "");
  std::string line = restore.value("name", "?") + " of " + restore.value("backup", "?") + " into " +
                     restore.value("namespace", "?") +
                     (cluster.empty() ? "" : " (cluster " + cluster + ")") + ": ";
  if (restore.value("ok", false)) return line + "Ready and verified";
  return line + restore.value("reason", "failed");
}

std::string mismatch_text(const json& restore) {
  std::string out;
  for (const auto& m : restore.value("mismatches", json::array())) {
    out += (out.empty() ? "" : ", ") + m.value("object", "?") + " " + m.value("what", "?");
  }
  return out;
}

}  // namespace

std::string dr_html(const RunRecord& r) {
  if (!r.dr || !r.dr->is_object()) return "";
  const json& dr = *r.dr;
  using text::html;
  std::ostringstream h;
  h << "<section id=\"restore-drill\"><h2>Restore drill</h2>\n<p>RTO <strong>"
    << html(figure(dr, "rto_s")) << "</strong> · RPO <strong>" << html(figure(dr, "rpo_s"))
    << "</strong></p>\n<ul>\n";
  for (const auto& b : dr.value("backups", json::array())) {
    h << "<li>backup " << html(b.value("name", "?")) << ": " << html(b.value("reason", "")) << " ("
      << b.value("items", 0) << " items)</li>\n";
  }
  for (const auto& restore : dr.value("restores", json::array())) {
    h << "<li" << (restore.value("ok", false) ? "" : " class=\"fail\"") << ">restore "
      << html(restore_line(restore));
    if (const std::string m = mismatch_text(restore); !m.empty()) h << " — mismatches: " << html(m);
    h << "</li>\n";
  }
  h << "</ul>\n<table><thead><tr><th>t</th><th>event</th></tr></thead><tbody>\n";
  for (const auto& e : dr.value("timeline", json::array())) {
    h << "<tr><td>" << html(text::seconds(e.value("t", 0.0))) << "</td><td>"
      << html(e.value("event", "")) << "</td></tr>\n";
  }
  h << "</tbody></table></section>\n";
  return h.str();
}

std::string dr_markdown(const RunRecord& r) {
  if (!r.dr || !r.dr->is_object()) return "";
  const json& dr = *r.dr;
  using text::markdown;
  std::ostringstream md;
  md << "**Restore drill:** RTO " << markdown(figure(dr, "rto_s")) << ", RPO "
     << markdown(figure(dr, "rpo_s")) << "\n\n";
  for (const auto& restore : dr.value("restores", json::array())) {
    md << "- " << (restore.value("ok", false) ? "✅" : "❌") << " restore "
       << markdown(restore_line(restore));
    if (const std::string m = mismatch_text(restore); !m.empty()) md << " (" << markdown(m) << ")";
    md << "\n";
  }
  md << "\n| t | event |\n|---|---|\n";
  for (const auto& e : dr.value("timeline", json::array())) {
    md << "| " << markdown(text::seconds(e.value("t", 0.0))) << " | "
       << markdown(e.value("event", "")) << " |\n";
  }
  md << "\n";
  return md.str();
}

}  // namespace faultline::reports
