// The HTML report as text: escaping, no external references, and the chart's
// content. Chromium renders it in chromium_test.cpp.
#include <gtest/gtest.h>

#include <regex>

#include "reports/render.h"
#include "tests/unit/reports/sample_record.h"

namespace faultline::reports {
namespace {

using testing::Outcome;

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// Every tag of the document (the text between '<' and '>'), and the CSS.
std::vector<std::string> tags(const std::string& html) {
  std::vector<std::string> out;
  for (size_t at = html.find('<'); at != std::string::npos; at = html.find('<', at + 1)) {
    size_t end = html.find('>', at);
    out.push_back(html.substr(at, end - at + 1));
  }
  return out;
}

std::string style_of(const std::string& html) {
  size_t from = html.find("<style>");
  size_t to = html.find("</style>");
  return from == std::string::npos ? "" : html.substr(from, to - from);
}

// A reference to anything outside the file can only come from markup or CSS:
// an attribute (src, href, action, srcset, ...) or url()/@import in a style.
// Record strings with URLs in them are escaped text, which this allows.
// Returns what it found; empty means self-contained.
std::vector<std::string> external_references(const std::string& html) {
  static const std::regex kUrlAttribute(
      R"((\s(src|href|srcset|action|formaction|poster|data|background|xlink:href|ping)\s*=))",
      std::regex::icase);
  std::vector<std::string> found;
  for (const auto& tag : tags(html)) {
    if (std::regex_search(tag, kUrlAttribute) || tag.find("//") != std::string::npos ||
        tag.find("url(") != std::string::npos) {
      found.push_back("tag " + tag);
    }
  }
  std::string css = style_of(html);
  if (css.empty()) found.push_back("no <style>");
  for (const char* bad : {"url(", "@import", "//"}) {
    if (css.find(bad) != std::string::npos) found.push_back(std::string("css ") + bad);
  }
  if (count(html, "<script") != 0) found.push_back("<script>");
  // Belt and braces: the browser itself refuses any load.
  if (html.find("content=\"default-src 'none'; style-src 'unsafe-inline'\"") == std::string::npos) {
    found.push_back("no Content-Security-Policy");
  }
  return found;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

TEST(Html, IsSelfContained) {
  for (Outcome o : {Outcome::Passed, Outcome::Failed, Outcome::Aborted, Outcome::Error,
                    Outcome::RollbackIncomplete}) {
    SCOPED_TRACE(static_cast<int>(o));
    auto found = external_references(render(testing::zone_outage_run(o), Format::Html));
    EXPECT_TRUE(found.empty()) << join(found);
  }
}

TEST(Html, TheSelfContainedCheckCatchesAnExternalReference) {
  std::string html = render(testing::zone_outage_run(), Format::Html);
  ASSERT_TRUE(external_references(html).empty());
  std::string bad = html;
  bad.replace(bad.find("</main>"), 0, "<img src=\"x.png\">");
  EXPECT_EQ(join(external_references(bad)), "tag <img src=\"x.png\">\n");
  bad = html;
  bad.replace(bad.find("</style>"), 0, "body{background:url(x.png)}");
  EXPECT_EQ(join(external_references(bad)), "css url(\n");
  bad = html;
  bad.replace(bad.find("</main>"), 0, "<svg><image xlink:href=\"a.png\"/></svg>");
  EXPECT_EQ(join(external_references(bad)), "tag <image xlink:href=\"a.png\"/>\n");
}

TEST(Html, EscapesHostileStrings) {
  std::string html = render(testing::hostile_run(), Format::Html);
  auto found = external_references(html);
  EXPECT_TRUE(found.empty()) << join(found);
  for (const char* raw : {"<script", "<img", "<iframe", "<svg onload", "<b>", "<i>",
                          "</code><script", "</pre><script", "\x1b", "\x01", "\xff"}) {
    EXPECT_EQ(html.find(raw), std::string::npos) << raw;
  }
  EXPECT_NE(html.find("<h1>zone&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;-outage</h1>"),
            std::string::npos);
  EXPECT_NE(html.find("pod/shop/&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  EXPECT_NE(html.find("&lt;iframe src=&quot;https://example.invalid/&quot;&gt;&lt;/iframe&gt;"),
            std::string::npos);
}

TEST(Html, HasEverySectionAndTheVerdict) {
  std::string html = render(testing::zone_outage_run(Outcome::Failed), Format::Html);
  for (const char* id : {"slos", "timeline", "phases", "faults", "events", "log", "run"}) {
    EXPECT_NE(html.find(std::string("<section id=\"") + id + "\""), std::string::npos) << id;
  }
  EXPECT_NE(html.find("<header class=\"verdict result-failed\">"), std::string::npos);
  EXPECT_NE(html.find("<span class=\"badge\">FAILED</span>"), std::string::npos);
  EXPECT_NE(html.find("1 of 3 SLOs failed: availability(http) measured 98.41%, bound &gt;= 99.5%."),
            std::string::npos);
  EXPECT_NE(html.find("@media print"), std::string::npos);
}

TEST(Html, ChartDrawsEverySeriesAndMarker) {
  RunRecord r = testing::zone_outage_run(Outcome::Failed);
  std::string html = render(r, Format::Html);
  EXPECT_EQ(count(html, "<svg class=\"timeline\""), 1u);
  EXPECT_EQ(count(html, "<path class=\"series\""), r.series.size());
  EXPECT_EQ(count(html, "<line class=\"marker "), r.markers.size());
  EXPECT_EQ(count(html, "<line class=\"marker marker-fault\""), 4u);
  EXPECT_EQ(count(html, "<line class=\"marker marker-rollback\""), 2u);
  // Panels: availability, latency, ready replicas per zone.
  for (const char* title : {">Availability<", ">Latency (ms)<", ">Ready replicas per zone<"}) {
    EXPECT_NE(html.find(title), std::string::npos) << title;
  }
  for (const char* zone : {">zone-a<", ">zone-b<", ">zone-c<"}) {
    EXPECT_NE(html.find(zone), std::string::npos) << zone;
  }
  // The failed availability SLO's deciding span is shaded.
  EXPECT_EQ(count(html, "<rect class=\"deciding\""), 1u);
  // The latency gap at t=70 splits that line into two subpaths.
  size_t latency = html.find("<title>latency_p95_ms</title>");
  ASSERT_NE(latency, std::string::npos);
  size_t path = html.rfind("<path class=\"series\" d=\"", latency);
  EXPECT_EQ(count(html.substr(path, latency - path), "M"), 2u);
}

TEST(Html, AbortMarkerAndNoticeForAnAbortedRun) {
  std::string html = render(testing::zone_outage_run(Outcome::Aborted), Format::Html);
  EXPECT_EQ(count(html, "<line class=\"marker marker-abort\""), 1u);
  EXPECT_NE(html.find("<section class=\"notice abort\" id=\"abort\"><h2>Aborted at 30s</h2>"),
            std::string::npos);
}

TEST(Html, RunWithoutSamplesStillRenders) {
  RunRecord r;
  r.experiment = "empty";
  r.started_at = r.ended_at = "2025-03-04T02:00:00Z";
  r.result = "error";
  r.error = "cannot reach the cluster";
  std::string html = render(r, Format::Html);
  EXPECT_TRUE(external_references(html).empty());
  EXPECT_NE(html.find("No samples were recorded."), std::string::npos);
  EXPECT_NE(html.find("cannot reach the cluster"), std::string::npos);
}

}  // namespace
}  // namespace faultline::reports
