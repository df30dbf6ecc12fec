#include "reports/dr_section.h"

#include <sstream>
#include <vector>

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
                     (cluster.empty() ? "" : " (cluster '" + cluster + "')") + ": ";
  if (restore.value("ok", false)) return line + "Ready and verified";
  return line + restore.value("reason", "failed");
}

// Every mismatch, when the reason (which names the first) does not say it all.
std::string mismatch_text(const json& restore) {
  std::string out;
  if (restore.value("mismatches", json::array()).size() < 2) return out;
  for (const auto& m : restore.value("mismatches", json::array())) {
    out += (out.empty() ? "" : ", ") + m.value("object", "?") + " " + m.value("what", "?");
  }
  return out;
}

std::string backup_line(const json& b) {
  return b.value("name", "?") + ": " + b.value("reason", "") + " (" +
         std::to_string(b.value("items", 0)) + " items)";
}

// What Velero said of a restore, word for word (its status has only
// counts): errors first.
std::vector<std::string> velero_messages(const json& restore) {
  std::vector<std::string> out;
  for (const auto& m : restore.value("error_messages", json::array()))
    if (m.is_string()) out.push_back("Velero error: " + m.get<std::string>());
  for (const auto& m : restore.value("warning_messages", json::array()))
    if (m.is_string()) out.push_back("Velero warning: " + m.get<std::string>());
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
    h << "<li" << (b.value("ok", false) ? "" : " class=\"fail\"") << ">backup "
      << html(backup_line(b)) << "</li>\n";
  }
  for (const auto& restore : dr.value("restores", json::array())) {
    h << "<li" << (restore.value("ok", false) ? "" : " class=\"fail\"") << ">restore "
      << html(restore_line(restore));
    if (const std::string m = mismatch_text(restore); !m.empty()) h << " — mismatches: " << html(m);
    if (const auto said = velero_messages(restore); !said.empty()) {
      h << "\n<ul>";
      for (const std::string& m : said) h << "<li>" << html(m) << "</li>";
      h << "</ul>";
    }
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
  for (const auto& b : dr.value("backups", json::array()))
    md << "- " << (b.value("ok", false) ? "✅" : "❌") << " backup " << markdown(backup_line(b))
       << "\n";
  for (const auto& restore : dr.value("restores", json::array())) {
    md << "- " << (restore.value("ok", false) ? "✅" : "❌") << " restore "
       << markdown(restore_line(restore));
    if (const std::string m = mismatch_text(restore); !m.empty()) md << " (" << markdown(m) << ")";
    md << "\n";
    for (const std::string& m : velero_messages(restore)) md << "  - " << markdown(m) << "\n";
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
