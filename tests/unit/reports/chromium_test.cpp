// The HTML report in a real browser: headless Chromium loads it, takes a
// screenshot, dumps the DOM and prints it to PDF.
//
// "No external requests" is checked three ways: html_test.cpp finds no
// URL-bearing attribute or CSS in the file; the report's CSP (default-src
// 'none') makes Chromium refuse any load, and every refusal is a console
// message, which fails the console check here; and Chromium's own network
// log must hold no request the page started. Chromium also makes requests
// of its own (update and account checks; they have no initiating origin),
// so the log check keeps only requests with an initiator, and the host
// resolver maps every name to NOTFOUND so nothing can leave the machine
// either way. The last test feeds a page that misbehaves on purpose through
// the same checks, to prove they can fail.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

#include "reports/render.h"
#include "tests/unit/reports/sample_record.h"
#include "tests/unit/reports/tools.h"

namespace faultline::reports {
namespace {

using testing::Outcome;

struct BrowserRun {
  testing::CommandResult command;
  std::vector<std::string> console;        // console messages and uncaught errors
  std::vector<std::string> page_requests;  // URLs the page itself asked for
};

// Requests in a Chromium NetLog that a page started: URL_REQUEST_START_JOB
// events with an initiator ("null" for a file:// page). Chromium's own
// background requests carry the initiator "not an origin".
std::vector<std::string> page_requests(const std::string& netlog_path) {
  std::vector<std::string> out;
  auto log = nlohmann::json::parse(testing::read_file(netlog_path));
  int start_job = log.at("constants").at("logEventTypes").at("URL_REQUEST_START_JOB").get<int>();
  for (const auto& e : log.at("events")) {
    if (e.value("type", -1) != start_job || !e.contains("params")) continue;
    const auto& p = e["params"];
    if (!p.contains("url")) continue;  // the event's end: no request of its own
    if (p.value("initiator", "") != "not an origin") out.push_back(p.value("url", ""));
  }
  return out;
}

// Runs headless Chromium on a file with `action` (--screenshot=..., --dump-dom,
// --print-to-pdf=...).
BrowserRun chromium(const std::string& html_path, const std::string& action,
                    const testing::TempDir& scratch) {
  std::string netlog = scratch.file("netlog.json");
  BrowserRun run;
  run.command = testing::run_command(
      {"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
       "--no-first-run", "--disable-background-networking", "--disable-component-update",
       "--disable-sync", "--user-data-dir=" + scratch.file("profile"), "--enable-logging=stderr",
       "--v=0", "--host-resolver-rules=MAP * ~NOTFOUND", "--log-net-log=" + netlog,
       "--window-size=1280,2000", "--no-pdf-header-footer", action, "file://" + html_path},
      150);
  std::istringstream err(run.command.err);
  for (std::string line; std::getline(err, line);) {
    if (line.find(":CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos) {
      run.console.push_back(line);
    }
  }
  if (std::filesystem::exists(netlog)) run.page_requests = page_requests(netlog);
  return run;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

uint32_t big_endian32(const std::string& s, size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

// Writes the report under the build tree's artifacts/ (kept, to be looked at).
std::string write_artifact(const RunRecord& r, const std::string& name) {
  std::string dir = testing::artifact_dir() + "/" + name;
  write_all(r, dir);
  return dir + "/report.html";
}

TEST(Chromium, ReportLoadsCleanlyAndTheScreenshotShowsIt) {
  testing::TempDir scratch;
  std::string html = write_artifact(testing::zone_outage_run(Outcome::Failed), "failed-run");
  std::string png = testing::artifact_dir() + "/failed-run/report.png";
  std::filesystem::remove(png);
  BrowserRun run = chromium(html, "--screenshot=" + png, scratch);
  ASSERT_FALSE(run.command.timed_out);
  EXPECT_EQ(run.command.exit_code, 0) << run.command.err;
  EXPECT_TRUE(run.console.empty()) << join(run.console);
  EXPECT_TRUE(run.page_requests.empty()) << join(run.page_requests);

  ASSERT_TRUE(std::filesystem::exists(png)) << run.command.err;
  std::string image = testing::read_file(png);
  ASSERT_GT(image.size(), 24u);
  EXPECT_EQ(image.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(image.substr(12, 4), "IHDR");
  EXPECT_EQ(big_endian32(image, 16), 1280u);
  EXPECT_EQ(big_endian32(image, 20), 2000u);
  // A blank 1280x2000 page compresses to a few kB; the report with its
  // tables and chart is well over 100 kB.
  EXPECT_GT(image.size(), 100u * 1024) << png;
}

// The restore drill's section as a browser shows it: loads cleanly, the
// failed restore marked, Velero's own words as text. The screenshot is kept
// under artifacts/restore-drill/ to be looked at.
TEST(Chromium, RestoreDrillSectionRendersAndTheScreenshotShowsIt) {
  testing::TempDir scratch;
  std::string html = write_artifact(testing::restore_drill_run(), "restore-drill");
  BrowserRun dom = chromium(html, "--dump-dom", scratch);
  ASSERT_FALSE(dom.command.timed_out);
  EXPECT_TRUE(dom.console.empty()) << join(dom.console);
  const std::string& page = dom.command.out;
  const auto section = page.find("<section id=\"restore-drill\">");
  ASSERT_NE(section, std::string::npos) << page;
  const std::string drill = page.substr(section, page.find("</section>", section) - section);
  EXPECT_NE(drill.find("RTO <strong>32.9s</strong> · RPO <strong>2.2s</strong>"), std::string::npos)
      << drill;
  EXPECT_NE(drill.find("<li>Velero warning: shop: could not restore, ConfigMap:kube-root-ca.crt "
                       "already exists."),
            std::string::npos)
      << drill;
  EXPECT_NE(drill.find("<li class=\"fail\">restore faultline-c3c64c68-r3 of faultline-c3c64c68-b1 "
                       "into shop-copy: data check failed: Secret/db data differs (and 1 more) — "
                       "mismatches: Secret/db data differs, ConfigMap/settings missing"),
            std::string::npos)
      << drill;
  EXPECT_NE(drill.find("restored workloads Ready in shop (cluster 'dr-region')"), std::string::npos)
      << drill;

  std::string png = testing::artifact_dir() + "/restore-drill/report.png";
  std::filesystem::remove(png);
  BrowserRun shot = chromium(html, "--screenshot=" + png, scratch);
  EXPECT_EQ(shot.command.exit_code, 0) << shot.command.err;
  EXPECT_TRUE(shot.page_requests.empty()) << join(shot.page_requests);
  ASSERT_TRUE(std::filesystem::exists(png)) << shot.command.err;
  EXPECT_GT(testing::read_file(png).size(), 100u * 1024) << png;
}

TEST(Chromium, DomShowsHostileStringsAsText) {
  testing::TempDir scratch;
  std::string html = write_artifact(testing::hostile_run(), "hostile-run");
  BrowserRun run = chromium(html, "--dump-dom", scratch);
  ASSERT_FALSE(run.command.timed_out);
  EXPECT_EQ(run.command.exit_code, 0) << run.command.err;
  EXPECT_TRUE(run.console.empty()) << join(run.console);
  EXPECT_TRUE(run.page_requests.empty()) << join(run.page_requests);
  const std::string& dom = run.command.out;
  // The browser parsed the strings as text: it serialises them escaped, and
  // no element came out of them.
  EXPECT_NE(dom.find("<h1>zone&lt;script&gt;alert('x')&lt;/script&gt;-outage</h1>"),
            std::string::npos)
      << dom.substr(0, 2000);
  for (const char* element : {"<script", "<img", "<iframe", "<b>", "<i>"}) {
    EXPECT_EQ(dom.find(element), std::string::npos) << element;
  }
  EXPECT_NE(dom.find("<svg class=\"timeline\""), std::string::npos);
  EXPECT_NE(dom.find("onerror=alert(1)"), std::string::npos);  // present, as text
}

TEST(Chromium, PrintsToAFewPdfPages) {
  testing::TempDir scratch;
  std::string html = write_artifact(testing::zone_outage_run(Outcome::Aborted), "aborted-run");
  std::string pdf = testing::artifact_dir() + "/aborted-run/report.pdf";
  std::filesystem::remove(pdf);
  BrowserRun run = chromium(html, "--print-to-pdf=" + pdf, scratch);
  ASSERT_FALSE(run.command.timed_out);
  EXPECT_EQ(run.command.exit_code, 0) << run.command.err;
  EXPECT_TRUE(run.console.empty()) << join(run.console);
  ASSERT_TRUE(std::filesystem::exists(pdf));
  std::string doc = testing::read_file(pdf);
  EXPECT_EQ(doc.substr(0, 5), "%PDF-");
  auto count = doc.find("/Count ");
  ASSERT_NE(count, std::string::npos);
  int pages = std::stoi(doc.substr(count + 7));
  EXPECT_GE(pages, 1);
  EXPECT_LE(pages, 6);
}

TEST(Chromium, ChecksCatchAPageThatScriptsAndLoads) {
  testing::TempDir scratch;
  std::string page = scratch.file("bad.html");
  testing::write_file(page,
                      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>bad</title></head>"
                      "<body><p>bad</p><img src=\"https://example.invalid/x.png\">"
                      "<script>console.error('faultline-boom'); missingFunction();</script>"
                      "</body></html>");
  BrowserRun run = chromium(page, "--dump-dom", scratch);
  ASSERT_FALSE(run.command.timed_out);
  std::string console = join(run.console);
  EXPECT_NE(console.find("faultline-boom"), std::string::npos) << run.command.err;
  EXPECT_NE(console.find("Uncaught ReferenceError"), std::string::npos) << run.command.err;
  EXPECT_EQ(run.page_requests, std::vector<std::string>{"https://example.invalid/x.png"});

  // With the report's CSP the same page loads nothing, and says so.
  std::string guarded = scratch.file("guarded.html");
  std::string text = testing::read_file(page);
  text.replace(text.find("<title>"), 0,
               "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
               "style-src 'unsafe-inline'\">");
  testing::write_file(guarded, text);
  run = chromium(guarded, "--dump-dom", scratch);
  EXPECT_TRUE(run.page_requests.empty()) << join(run.page_requests);
  console = join(run.console);
  EXPECT_NE(console.find("violates the following Content Security Policy"), std::string::npos)
      << run.command.err;
  EXPECT_EQ(console.find("faultline-boom"), std::string::npos);
}

}  // namespace
}  // namespace faultline::reports
