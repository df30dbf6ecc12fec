// `faultline probe`, the vantage pods' probe: flags, and the JSON lines it
// writes against a local HTTP server (tests/unit/kube/test_server).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <sstream>
#include <stop_token>

#include "runner/common/error.h"
#include "runner/probe/vantage_probe.h"
#include "tests/unit/kube/test_server.h"

namespace faultline::probe {
namespace {

using json = nlohmann::json;

std::string parse_error(const std::vector<std::string>& args) {
  try {
    parse_vantage_args(args);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(VantageProbe, FlagsAreCheckedWithOneLine) {
  EXPECT_EQ(parse_error({"--url", "http://x/", "--rate", "fast"}),
            "faultline probe: --rate: expected a rate like 20/s (at most 1000/s), got \"fast\"");
  EXPECT_EQ(parse_error({"--url", "ftp://x/", "--rate", "20/s"}),
            "faultline probe: --url: expected an http:// or https:// URL, got \"ftp://x/\"");
  EXPECT_EQ(parse_error({"--url", "http://x/"}),
            "faultline probe: --rate: required (e.g. --rate 20/s)");
  EXPECT_EQ(parse_error({"--url", "http://x/", "--rate", "20/s", "--timeout", "5ms"}),
            "faultline probe: --timeout: expected a duration from 100ms to 60s, got \"5ms\"");
  EXPECT_EQ(parse_error({"--bogus"}),
            "faultline probe: unknown flag --bogus (see faultline --help)");
  auto o = parse_vantage_args({"--url=http://x/healthz", "--rate", "50/s", "--duration", "2s",
                               "--zone", "zone-b", "--no-keepalive"});
  EXPECT_EQ(o.target.url, "http://x/healthz");
  EXPECT_DOUBLE_EQ(o.rate, 50);
  EXPECT_DOUBLE_EQ(o.duration.count(), 2);
  EXPECT_EQ(o.zone, "zone-b");
  EXPECT_FALSE(o.target.keepalive);
}

std::vector<json> lines_of(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// 20/s for 0.5 s: a header, then ~10 samples on the wall clock, in order.
TEST(VantageProbe, WritesOneWallClockStampedLinePerRequest) {
  testing::TestServer server([](testing::Exchange& x) {
    x.respond(200, "ok", {{"Content-Type", "text/plain"}});
  });
  auto o = parse_vantage_args({"--url", server.url() + "/healthz", "--rate", "20/s", "--duration",
                               "500ms", "--zone", "zone-a"});
  std::ostringstream out;
  double before = unix_now();
  ASSERT_EQ(run_vantage(o, out, std::stop_token{}), 0);
  double after = unix_now();
  auto lines = lines_of(out.str());
  ASSERT_GE(lines.size(), 9u) << out.str();
  EXPECT_EQ(lines[0].value("probe", ""), "start");
  EXPECT_EQ(lines[0].value("zone", ""), "zone-a");
  double last = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    const json& s = lines[i];
    EXPECT_TRUE(s.value("ok", false)) << s.dump();
    EXPECT_EQ(s.value("status", 0), 200);
    EXPECT_EQ(s.value("zone", ""), "zone-a");
    double t = s.value("t", 0.0);
    EXPECT_GE(t, before - 0.01);
    EXPECT_LE(t, after);
    EXPECT_GE(t, last);
    last = t;
  }
  EXPECT_LE(lines.size(), 13u);
}

TEST(VantageProbe, AServerErrorIsAFailedSample) {
  testing::TestServer server([](testing::Exchange& x) {
    x.respond(503, "down", {{"Content-Type", "text/plain"}});
  });
  auto o =
      parse_vantage_args({"--url", server.url() + "/", "--rate", "20/s", "--duration", "200ms"});
  std::ostringstream out;
  ASSERT_EQ(run_vantage(o, out, std::stop_token{}), 0);
  auto lines = lines_of(out.str());
  ASSERT_GE(lines.size(), 2u);
  EXPECT_FALSE(lines[1].value("ok", true));
  EXPECT_EQ(lines[1].value("status", 0), 503);
  EXPECT_NE(lines[1].value("error", "").find("503"), std::string::npos) << lines[1].dump();
}

}  // namespace
}  // namespace faultline::probe
