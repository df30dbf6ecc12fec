// bench_probe: the http probe engine's achieved rate and scheduling error
// (actual send time minus scheduled time) against a local server.
//
//   bench_probe [--rate 1000] [--seconds 10] [--url http://127.0.0.1:PORT/]
//
// Without --url it starts the loopback test server (one thread per
// connection, keep-alive) and probes it. Prints figures; asserts nothing.
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runner/observe/request_engine.h"
#include "runner/observe/series.h"
#include "tests/unit/observe/test_http_server.h"

using namespace faultline::observe;

namespace {

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void usage() {
  std::fprintf(stderr, "usage: bench_probe [--rate N] [--seconds S] [--url URL]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  double rate = 1000, seconds = 10;
  std::string url;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage();
    if (a == "--rate")
      rate = std::atof(argv[++i]);
    else if (a == "--seconds")
      seconds = std::atof(argv[++i]);
    else if (a == "--url")
      url = argv[++i];
    else
      usage();
  }
  if (rate <= 0 || seconds <= 0) usage();

  std::unique_ptr<faultline::testing::TestHttpServer> server;
  if (url.empty()) {
    server = std::make_unique<faultline::testing::TestHttpServer>();
    url = server->url("/healthz");
  }

  std::mutex mu;
  std::vector<RequestSample> samples;
  samples.reserve(size_t(rate * seconds * 1.1) + 16);
  RequestTarget target;
  target.url = url;
  target.timeout = std::chrono::milliseconds(1000);
  auto t0 = Clock::now();
  RequestEngine engine(target, rate, t0, [&](RequestSample s) {
    std::lock_guard lock(mu);
    samples.push_back(std::move(s));
  });
  double cpu0 = cpu_seconds();
  engine.start();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  engine.stop();
  double wall = seconds_between(t0, Clock::now());
  double cpu = cpu_seconds() - cpu0;
  if (auto e = engine.error()) {
    std::fprintf(stderr, "engine failed: %s\n", e->c_str());
    return 1;
  }

  std::sort(samples.begin(), samples.end(), [](const auto& a, const auto& b) { return a.t < b.t; });
  std::vector<double> lag_ms, latency_ms;
  long ok = 0;
  for (const auto& s : samples) {
    lag_ms.push_back((s.sent - s.t) * 1000);
    latency_ms.push_back(s.latency_ms);
    ok += s.ok ? 1 : 0;
  }
  auto stats = engine.stats();
  double span = samples.size() > 1 ? samples.back().t - samples.front().t : 0;
  double achieved = span > 0 ? double(samples.size() - 1) / span : 0;

  std::printf("bench_probe: %g req/s for %gs against %s\n", rate, seconds,
              server ? "the loopback test server" : url.c_str());
  std::printf("  requests      scheduled %lld, completed %lld, ok %ld, not sent %lld\n",
              stats.scheduled, stats.completed, ok, stats.not_sent);
  std::printf("  achieved rate %.1f req/s (samples over the timetable's span)\n", achieved);
  std::printf("  max in flight %zu\n", stats.max_in_flight);
  if (!samples.empty()) {
    std::printf("  sched. error  p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms\n",
                percentile(lag_ms, 50), percentile(lag_ms, 90), percentile(lag_ms, 99),
                percentile(lag_ms, 100));
    std::printf("  latency       p50 %.3f ms, p99 %.3f ms, max %.3f ms (from scheduled time)\n",
                percentile(latency_ms, 50), percentile(latency_ms, 99),
                percentile(latency_ms, 100));
  }
  std::printf("  cpu           %.2f s over %.2f s wall (whole process%s)\n", cpu, wall,
              server ? ", server included" : "");
  return ok == long(samples.size()) ? 0 : 1;
}
