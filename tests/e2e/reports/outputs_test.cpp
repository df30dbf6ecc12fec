// Issue 6 end to end: the shipped zone-outage drill on the local cluster
// writes all five outputs — report.json (valid against its schema), junit.xml
// (valid against the JUnit XSD), report.html, summary.md, and metrics pushed
// to a real Pushgateway — and leaves Kubernetes Events on the Deployment.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/e2e/cluster_env.h"

namespace faultline::testing {
namespace {

namespace fs = std::filesystem;

int free_port() {
  std::string out;
  run("python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])'", &out);
  return std::stoi(out);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class Pushgateway {
 public:
  Pushgateway() : port_(free_port()) {
    pid_ = fork();
    if (pid_ == 0) {
      // Debian's default --persistence.file would carry metrics across runs.
      execlp("prometheus-pushgateway", "prometheus-pushgateway",
             ("--web.listen-address=127.0.0.1:" + std::to_string(port_)).c_str(), "--persistence.file=",
             static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 100; ++i) {
      if (run("curl -sf http://127.0.0.1:" + std::to_string(port_) + "/-/ready") == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ~Pushgateway() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string metrics() const {
    std::string out;
    run("curl -sf " + url() + "/metrics", &out);
    return out;
  }

 private:
  int port_;
  pid_t pid_;
};

TEST(ReportsE2E, ZoneOutageWritesAllFiveOutputsAndRecordsEvents) {
  deploy_demo();
  Pushgateway gateway;
  fs::path out = fs::path(::testing::TempDir()) / "zone-outage-outputs";
  fs::remove_all(out);
  std::string log;
  int code = faultline("run " + source_dir() + "/experiments/zone-outage.yaml --output-dir " + out.string() +
                           " --pushgateway " + gateway.url(),
                       &log);
  ASSERT_EQ(code, 0) << log;

  for (const char* f : {"report.json", "junit.xml", "report.html", "summary.md"})
    EXPECT_TRUE(fs::exists(out / f) && fs::file_size(out / f) > 200) << f;

  std::string result;
  EXPECT_EQ(run("python3 " + source_dir() + "/tests/unit/reports/validate_json.py " + source_dir() +
                    "/reports/schema/report.schema.json " + (out / "report.json").string(),
                &result),
            0)
      << result;
  EXPECT_EQ(run("xmllint --noout --schema " + source_dir() + "/reports/schema/junit.xsd " + (out / "junit.xml").string(),
                &result),
            0)
      << result;

  auto report = nlohmann::json::parse(slurp(out / "report.json"));
  EXPECT_EQ(report["result"], "passed");
  EXPECT_FALSE(report["faults"].empty());
  EXPECT_TRUE(report["rollback"]["complete"].get<bool>());
  EXPECT_NE(slurp(out / "summary.md").find("checkout-zone-outage"), std::string::npos);
  EXPECT_NE(slurp(out / "report.html").find("<svg"), std::string::npos);

  std::string metrics = gateway.metrics();
  EXPECT_NE(metrics.find("faultline_last_success_timestamp_seconds"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("experiment=\"checkout-zone-outage\""), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("faultline_run_result"), std::string::npos) << metrics;

  std::string events = kubectl("get events -n shop --field-selector involvedObject.kind=Deployment,involvedObject.name=checkout -o custom-columns=REASON:.reason --no-headers");
  for (const char* reason : {"DrillStarted", "FaultInjected", "DrillRolledBack", "DrillFinished"})
    EXPECT_NE(events.find(reason), std::string::npos) << reason << " not in:\n" << events;
  expect_cluster_clean();
}

}  // namespace
}  // namespace faultline::testing
