// One run record, four documents: report.json (the record itself), junit.xml
// (CI gates), report.html (game days, printable) and summary.md (CI job
// summaries and chat).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "reports/run_record.h"

namespace faultline::reports {

enum class Format { Json, Junit, Html, Markdown };

std::string render(const RunRecord& record, Format format);

// "json", "junit", "html", "md" / "markdown"; nullopt for anything else.
std::optional<Format> parse_format(std::string_view name);

// The file each format is written to: report.json, junit.xml, report.html,
// summary.md.
std::string file_name(Format format);

// Writes all four files into dir (created if missing). Each file is written
// to a temporary name and renamed, so a reader never sees half a report.
// Throws OutputError naming the path on any I/O error.
void write_all(const RunRecord& record, const std::string& dir);

}  // namespace faultline::reports
