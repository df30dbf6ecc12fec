#include "runner/probe/vantage_probe.h"

#include <nlohmann/json.hpp>

#include <mutex>
#include <thread>

#include "runner/common/duration.h"
#include "runner/common/error.h"

namespace faultline::probe {

namespace {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

VantageOptions parse_vantage_args(const std::vector<std::string>& args) {
  VantageOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& f = args[i];
    auto value = [&]() -> std::string {
      if (auto eq = f.find('='); eq != std::string::npos) return f.substr(eq + 1);
      if (i + 1 >= args.size()) throw InputError("faultline probe: " + f + ": expected a value");
      return args[++i];
    };
    auto is = [&](const char* name) {
      return f == name || f.rfind(std::string(name) + "=", 0) == 0;
    };
    if (is("--url")) {
      o.target.url = value();
    } else if (is("--rate")) {
      std::string v = value();
      auto r = parse_rate(v);
      if (!r || *r <= 0 || *r > 1000)
        throw InputError(
            "faultline probe: --rate: expected a rate like 20/s (at most 1000/s), got \"" + v +
            "\"");
      o.rate = *r;
    } else if (is("--timeout")) {
      std::string v = value();
      auto d = parse_duration(v);
      if (!d || d->count() < 0.1 || d->count() > 60)
        throw InputError(
            "faultline probe: --timeout: expected a duration from 100ms to 60s, got \"" + v + "\"");
      o.target.timeout = std::chrono::milliseconds(static_cast<long long>(d->count() * 1000));
    } else if (is("--duration")) {
      std::string v = value();
      auto d = parse_duration(v);
      if (!d || d->count() <= 0)
        throw InputError("faultline probe: --duration: expected a positive duration, got \"" + v +
                         "\"");
      o.duration = *d;
    } else if (is("--zone")) {
      o.zone = value();
    } else if (f == "--no-keepalive") {
      o.target.keepalive = false;
    } else {
      throw InputError("faultline probe: unknown flag " + f + " (see faultline --help)");
    }
  }
  if (o.target.url.rfind("http://", 0) != 0 && o.target.url.rfind("https://", 0) != 0)
    throw InputError("faultline probe: --url: expected an http:// or https:// URL, got \"" +
                     o.target.url + "\"");
  if (o.rate <= 0) throw InputError("faultline probe: --rate: required (e.g. --rate 20/s)");
  return o;
}

std::string sample_line(const observe::RequestSample& s, double t0_unix, const std::string& zone) {
  nlohmann::json j{
      {"t", t0_unix + s.t},         {"zone", zone},    {"ok", s.ok}, {"status", s.status},
      {"latency_ms", s.latency_ms}, {"error", s.error}};
  return j.dump();
}

int run_vantage(const VantageOptions& options, std::ostream& out, std::stop_token stop) {
  std::mutex mu;
  auto t0 = observe::Clock::now();
  double t0_unix = unix_now();
  out << nlohmann::json{{"probe", "start"},
                        {"t", t0_unix},
                        {"url", options.target.url},
                        {"rate", options.rate},
                        {"zone", options.zone}}
             .dump()
      << std::endl;
  observe::RequestEngine engine(options.target, options.rate, t0, [&](observe::RequestSample s) {
    std::lock_guard lock(mu);
    out << sample_line(s, t0_unix, options.zone) << std::endl;
  });
  engine.start();
  auto end = t0 + std::chrono::duration_cast<observe::Clock::duration>(options.duration);
  while (!stop.stop_requested() && (options.duration.count() == 0 || observe::Clock::now() < end) &&
         !engine.error())
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  engine.stop();
  if (auto e = engine.error()) {
    std::lock_guard lock(mu);
    out << nlohmann::json{{"probe", "error"}, {"t", unix_now()}, {"error", *e}}.dump() << std::endl;
    return 4;
  }
  return 0;
}

}  // namespace faultline::probe
