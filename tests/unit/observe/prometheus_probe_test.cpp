// The prometheus probe against a real Prometheus (Debian's `prometheus`)
// scraping a /metrics target this test serves and controls; error paths a
// real server will not produce on demand go against the test server.
#include "runner/observe/prometheus_probe.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "runner/observe/request_engine.h"
#include "tests/unit/observe/test_http_server.h"

extern char** environ;

namespace faultline::observe {
namespace {

namespace fs = std::filesystem;
using faultline::testing::TestHttpServer;
using faultline::testing::TestRequest;
using faultline::testing::TestResponse;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

// A temporary directory removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/faultline-prom-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

// A Prometheus server on a free loopback port, scraping `target` every
// second; killed (SIGTERM, then SIGKILL) when the test ends.
class PrometheusServer {
 public:
  explicit PrometheusServer(int target_port) {
    port_ = faultline::testing::free_port();
    auto config = dir_.path / "prometheus.yml";
    std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                          << "scrape_configs:\n  - job_name: target\n    static_configs:\n"
                          << "      - targets: ['127.0.0.1:" << target_port << "']\n";
    std::vector<std::string> args = {"prometheus", "--config.file=" + config.string(),
                                     "--storage.tsdb.path=" + (dir_.path / "data").string(),
                                     "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                     "--log.level=warn"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    auto log = (dir_.path / "prometheus.log").string();
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    int rc = posix_spawnp(&pid_, "prometheus", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start prometheus: " + std::string(strerror(rc)));
  }

  ~PrometheusServer() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(milliseconds(50));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // True once /-/ready answers 200 (within 60 s).
  bool wait_ready() {
    RequestTarget ready;
    ready.url = url() + "/-/ready";
    ready.timeout = milliseconds(1000);
    for (int i = 0; i < 600; ++i) {
      if (request_once(ready, Clock::now()).ok) return true;
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = 0;
        return false;
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  }

  std::string log() const {
    std::ifstream in(dir_.path / "prometheus.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = 0;
};

PrometheusProbeSpec spec_for(const std::string& url, const std::string& query) {
  PrometheusProbeSpec s;
  s.url = url;
  s.query = query;
  s.every = Seconds(0.2);
  return s;
}

class Values {
 public:
  PrometheusPoller::Sink sink() {
    return [this](ValueSample s) {
      std::lock_guard lock(mu_);
      v_.push_back(s);
    };
  }
  // Waits (up to 30 s) until a successful sample has this value.
  bool wait_for(double value) {
    for (int i = 0; i < 300; ++i) {
      {
        std::lock_guard lock(mu_);
        for (const auto& s : v_)
          if (s.ok && s.value == value) return true;
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    return false;
  }
  std::vector<ValueSample> all() const {
    std::lock_guard lock(mu_);
    return v_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<ValueSample> v_;
};

TEST(PrometheusProbe, FollowsAValueScrapedByARealPrometheus) {
  std::atomic<int> value{1};
  TestHttpServer target;
  target.set_handler([&](const TestRequest& r) {
    if (r.path != "/metrics") return TestResponse{404, "", "text/plain"};
    return TestResponse{200,
                        "# TYPE faultline_test_value gauge\nfaultline_test_value " +
                            std::to_string(value.load()) + "\n",
                        "text/plain; version=0.0.4"};
  });
  PrometheusServer prometheus(target.port());
  ASSERT_TRUE(prometheus.wait_ready()) << prometheus.log();

  Values got;
  auto t0 = Clock::now();
  PrometheusPoller poller(spec_for(prometheus.url(), "max(faultline_test_value)"), t0, got.sink());
  poller.start();
  ASSERT_TRUE(got.wait_for(1)) << prometheus.log();
  value = 7;
  ASSERT_TRUE(got.wait_for(7));
  poller.stop();

  // The series went 1 -> 7, never anything else, in time order.
  auto samples = got.all();
  bool seen_seven = false;
  double last_t = -1;
  for (const auto& s : samples) {
    EXPECT_GT(s.t, last_t);
    last_t = s.t;
    if (!s.ok) {
      // Before the first scrape the series does not exist yet.
      EXPECT_EQ(s.error, "empty result (no series matched)");
      EXPECT_FALSE(seen_seven);
      continue;
    }
    if (seen_seven) {
      EXPECT_EQ(s.value, 7);
    }
    EXPECT_TRUE(s.value == 1 || s.value == 7) << s.value;
    seen_seven = seen_seven || s.value == 7;
  }

  // PromQL arithmetic is Prometheus's, and a bad query is reported, not thrown.
  auto doubled = prometheus_query(spec_for(prometheus.url(), "2 * max(faultline_test_value)"), t0);
  EXPECT_TRUE(doubled.ok) << doubled.error;
  EXPECT_EQ(doubled.value, 14);
  auto scalar =
      prometheus_query(spec_for(prometheus.url(), "scalar(max(faultline_test_value)) + 1"), t0);
  EXPECT_TRUE(scalar.ok) << scalar.error;
  EXPECT_EQ(scalar.value, 8);
  auto broken = prometheus_query(spec_for(prometheus.url(), "sum("), t0);
  EXPECT_FALSE(broken.ok);
  EXPECT_THAT(broken.error, HasSubstr("query failed (HTTP 400)"));
}

TEST(PrometheusProbe, SendsTheBearerTokenAndNeverReportsIt) {
  TestHttpServer fake;
  fake.set_response({200,
                     R"({"status":"success","data":{"resultType":"scalar","result":[1,"3.5"]}})",
                     "application/json"});
  TempDir dir;
  auto token_file = dir.path / "token";
  std::ofstream(token_file) << "s3cret-token\n";
  auto spec = spec_for(fake.url(), "up == 1");
  spec.bearer_token_file = token_file.string();
  auto s = prometheus_query(spec, Clock::now());
  EXPECT_TRUE(s.ok) << s.error;
  EXPECT_EQ(s.value, 3.5);
  ASSERT_EQ(fake.recorded().size(), 1u);
  EXPECT_EQ(fake.recorded()[0].headers["authorization"], "Bearer s3cret-token");
  EXPECT_EQ(fake.recorded()[0].path, "/api/v1/query?query=up%20%3D%3D%201");

  fake.set_response({401, "unauthorized: bad token s3cret-token", "text/plain"});
  auto denied = prometheus_query(spec, Clock::now());
  EXPECT_FALSE(denied.ok);
  EXPECT_EQ(denied.error, "HTTP 401: response is not JSON");
  spec.bearer_token_file = (dir.path / "missing").string();
  auto missing = prometheus_query(spec, Clock::now());
  EXPECT_EQ(missing.error, "cannot read bearer_token_file " + (dir.path / "missing").string());
}

TEST(PrometheusProbe, ResultsThatAreNotOneNumberAreFailedSamples) {
  EXPECT_EQ(parse_query_response(
                200, R"({"status":"success","data":{"resultType":"vector","result":[]}})")
                .error,
            "empty result (no series matched)");
  EXPECT_EQ(
      parse_query_response(200, R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"2"]}]}})")
          .error,
      "query returned 2 series; expected one (aggregate it, e.g. sum(...))");
  EXPECT_EQ(parse_query_response(
                200, R"({"status":"success","data":{"resultType":"matrix","result":[]}})")
                .error,
            "unsupported result type \"matrix\" (expected vector or scalar)");
  EXPECT_EQ(parse_query_response(
                503, R"({"status":"error","errorType":"unavailable","error":"overloaded"})")
                .error,
            "query failed (HTTP 503): overloaded");
  EXPECT_EQ(parse_query_response(200, "<html>").error, "HTTP 200: response is not JSON");
  auto v = parse_query_response(200, R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{},"value":[1700000000.1,"0.25"]}]}})");
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.value, 0.25);
}

TEST(PrometheusProbe, UnreachableServerIsAFailedSample) {
  int port = faultline::testing::free_port();
  auto s =
      prometheus_query(spec_for("http://127.0.0.1:" + std::to_string(port), "up"), Clock::now());
  EXPECT_FALSE(s.ok);
  EXPECT_THAT(s.error, HasSubstr(std::to_string(port)));
}

// A sink that throws (the timeline full, bad_alloc) must not end the
// poller's thread with std::terminate (no rollback): the slot is a failed
// sample, a failure to record that is logged, and polling goes on.
TEST(PrometheusProbe, PollerSurvivesASinkThatThrows) {
  int port = faultline::testing::free_port();
  std::mutex mu;
  int calls = 0;
  std::vector<ValueSample> kept;
  PrometheusPoller poller(spec_for("http://127.0.0.1:" + std::to_string(port), "up"), Clock::now(),
                          [&](ValueSample s) {
                            std::lock_guard lock(mu);
                            if (++calls <= 2) throw std::runtime_error("timeline is full");
                            kept.push_back(std::move(s));
                          });
  poller.start();
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard lock(mu);
      if (kept.size() >= 2) break;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  poller.stop();
  std::lock_guard lock(mu);
  ASSERT_GE(kept.size(), 2u) << "polling stopped after the sink threw";
  EXPECT_FALSE(kept[0].ok);
  EXPECT_THAT(kept[0].error, HasSubstr(std::to_string(port)));
}

}  // namespace
}  // namespace faultline::observe
