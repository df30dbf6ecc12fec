#include "reports/render.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "reports/output_error.h"
#include "reports/renderers.h"

namespace faultline::reports {

std::string render(const RunRecord& record, Format format) {
  switch (format) {
    case Format::Json:
      return render_json(record);
    case Format::Junit:
      return render_junit(record);
    case Format::Html:
      return render_html(record);
    case Format::Markdown:
      return render_markdown(record);
  }
  return {};
}

std::optional<Format> parse_format(std::string_view name) {
  if (name == "json") return Format::Json;
  if (name == "junit" || name == "xml") return Format::Junit;
  if (name == "html") return Format::Html;
  if (name == "md" || name == "markdown") return Format::Markdown;
  return std::nullopt;
}

std::string file_name(Format format) {
  switch (format) {
    case Format::Json:
      return "report.json";
    case Format::Junit:
      return "junit.xml";
    case Format::Html:
      return "report.html";
    case Format::Markdown:
      return "summary.md";
  }
  return {};
}

namespace {

void write_file(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      throw OutputError("cannot write " + tmp.string() + ": " + std::strerror(errno));
    }
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    if (!out) {
      int err = errno;
      std::filesystem::remove(tmp);
      throw OutputError("cannot write " + tmp.string() + ": " + std::strerror(err));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::filesystem::remove(tmp);
    throw OutputError("cannot rename " + tmp.string() + " to " + path.string() + ": " +
                      std::strerror(err));
  }
}

}  // namespace

void write_all(const RunRecord& record, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw OutputError("cannot create report directory " + dir + ": " + ec.message());
  // Render everything first: a renderer failing must not leave a partial set.
  std::vector<std::pair<std::filesystem::path, std::string>> files;
  for (Format f : {Format::Json, Format::Junit, Format::Html, Format::Markdown}) {
    files.emplace_back(std::filesystem::path(dir) / file_name(f), render(record, f));
  }
  for (const auto& [path, content] : files) write_file(path, content);
}

}  // namespace faultline::reports
