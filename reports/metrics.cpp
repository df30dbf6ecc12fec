#include "reports/metrics.h"

#include <prometheus/exposer.h>
#include <prometheus/gateway.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <future>
#include <limits>
#include <thread>

#include "reports/output_error.h"
#include "reports/text.h"
#include "reports/verdict.h"
#include "runner/common/error.h"

namespace faultline::reports {
namespace {

using Labels = std::map<std::string, std::string>;

constexpr const char* kResults[] = {"passed", "failed", "aborted", "error", "rollback_incomplete"};

std::string or_unknown(const std::string& s) { return s.empty() ? "unknown" : s; }

bool unreserved(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == '~';
  });
}

std::string base64url(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    for (int shift : {18, 12, 6}) out += kAlphabet[(n >> shift) & 63];
    out += "=";
  }
  return out;
}

// prometheus-cpp puts grouping labels into the URL path verbatim, so a value
// with "/" (an EKS context is "arn:...:cluster/prod") would break the path.
// The Pushgateway's "<name>@base64/<base64url value>" form carries any value.
Labels grouping_key(const std::string& experiment, const std::string& cluster) {
  Labels key;
  for (const auto& [name, value] : {std::pair{std::string("experiment"), experiment},
                                    std::pair{std::string("cluster"), cluster}}) {
    if (unreserved(value)) {
      key[name] = value;
    } else {
      key[name + "@base64"] = base64url(value);
    }
  }
  return key;
}

std::string curl_error_text(int code) {
  return std::string(curl_easy_strerror(static_cast<CURLcode>(code))) + " (curl error " +
         std::to_string(code) + ")";
}

}  // namespace

GatewayAddress parse_gateway_url(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return InputError("pushgateway URL \"" + url + "\": " + why);
  };
  std::string rest;
  std::string scheme;
  if (url.rfind("http://", 0) == 0) {
    scheme = "http", rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    scheme = "https", rest = url.substr(8);
  } else {
    // Do not echo it: a malformed URL may still carry a password.
    throw InputError("pushgateway URL: expected http://host[:port] or https://host[:port]");
  }
  if (rest.find('@') != std::string::npos) {
    throw InputError("pushgateway URL: credentials in the URL are not supported");
  }
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.find_first_of("/?#") != std::string::npos) {
    throw bad("a path, query or fragment is not supported (expected " + scheme + "://host[:port])");
  }
  std::string host, port;
  if (!rest.empty() && rest.front() == '[') {  // [::1]:9091
    auto close = rest.find(']');
    if (close == std::string::npos) throw bad("unterminated IPv6 address");
    host = rest.substr(0, close + 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') throw bad("expected :port after the IPv6 address");
      port = rest.substr(close + 2);
    }
  } else {
    auto colon = rest.find(':');
    host = rest.substr(0, colon);
    if (colon != std::string::npos) port = rest.substr(colon + 1);
  }
  if (host.empty() || host == "[]") throw bad("no host");
  if (port.empty()) port = scheme == "https" ? "443" : "80";
  if (port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) ||
      std::stoi(port) == 0 || std::stoi(port) > 65535) {
    throw bad("port must be 1-65535");
  }
  return GatewayAddress{scheme + "://" + host, port};
}

RunMetrics::RunMetrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto gauge = [&](const char* name, const char* help) {
    return &prometheus::BuildGauge().Name(name).Help(help).Register(*registry_);
  };
  run_in_progress_ = gauge("faultline_run_in_progress", "1 while a drill is running");
  run_result_ =
      gauge("faultline_run_result", "Result of the last run: 1 for its result, 0 for the others");
  slo_passed_ = gauge("faultline_slo_passed",
                      "1 when the SLO was met in the last run, 0 when not, NaN when not evaluated");
  slo_value_ = gauge("faultline_slo_value", "Value the SLO measured in the last run (NaN: none)");
  availability_ratio_ =
      gauge("faultline_availability_ratio", "Availability through the fault, 0 to 1");
  replacement_seconds_ = gauge("faultline_replacement_seconds",
                               "Seconds until every replica was Ready off the failed zone");
  run_duration_seconds_ = gauge("faultline_run_duration_seconds", "Duration of the last run");
  last_run_timestamp_ =
      gauge("faultline_last_run_timestamp_seconds", "Unix time the last run ended");
  last_success_timestamp_ =
      gauge("faultline_last_success_timestamp_seconds", "Unix time the last passing run ended");
  rollback_complete_ = gauge("faultline_rollback_complete",
                             "1 when the last run left nothing behind in the cluster");
  faults_ = gauge("faultline_run_faults", "Faults of the last run, by status");
}

RunMetrics::~RunMetrics() = default;

prometheus::Gauge& RunMetrics::set(GaugeFamily& family, Labels labels, double value) {
  labels.emplace("experiment", experiment_);
  labels.emplace("cluster", cluster_);
  auto& g = family.Add(labels);
  g.Set(value);
  return g;
}

void RunMetrics::start(const std::string& experiment, const std::string& cluster) {
  std::lock_guard lock(mutex_);
  experiment_ = or_unknown(experiment);
  cluster_ = or_unknown(cluster);
  set(*run_in_progress_, {}, 1);
}

void RunMetrics::update(const RunRecord& r) {
  auto ended = text::parse_rfc3339(r.ended_at);
  if (!ended) {
    throw InputError("run record: ended_at is not an RFC 3339 time: \"" +
                     text::valid_utf8(r.ended_at) + "\"");
  }
  std::lock_guard lock(mutex_);
  for (const Added& a : added_) a.family->Remove(a.gauge);
  added_.clear();
  experiment_ = or_unknown(r.experiment);
  cluster_ = or_unknown(r.cluster_context);
  auto add = [&](GaugeFamily* family, Labels labels, double value) {
    added_.push_back(Added{family, &set(*family, std::move(labels), value)});
  };

  set(*run_in_progress_, {}, 0);
  for (const char* result : kResults) add(run_result_, {{"result", result}}, r.result == result);
  // What the run did not measure is NaN rather than absent: a push (POST)
  // replaces only the metric names it carries, so an absent series would
  // leave the previous run's value standing in the Pushgateway.
  const double kNotMeasured = std::numeric_limits<double>::quiet_NaN();
  for (const auto& s : r.slos) {
    add(slo_passed_, {{"slo", s.name}}, !slo_evaluated(r, s) ? kNotMeasured : s.passed ? 1 : 0);
    add(slo_value_, {{"slo", s.name}}, s.measured.value_or(kNotMeasured));
  }
  add(availability_ratio_, {}, r.availability_ratio.value_or(kNotMeasured));
  add(replacement_seconds_, {}, r.replacement_seconds.value_or(kNotMeasured));
  add(run_duration_seconds_, {}, r.duration_seconds);
  add(last_run_timestamp_, {}, *ended);
  add(rollback_complete_, {}, r.rollback.complete ? 1 : 0);
  FaultTally t = tally_faults(r);
  add(faults_, {{"status", "rolled_back"}}, t.rolled_back);
  add(faults_, {{"status", "not_reversible"}}, t.not_reversible);
  add(faults_, {{"status", "failed"}}, t.failed);
  add(faults_, {{"status", "still_applied"}}, t.still_applied);
  add(faults_, {{"status", "not_made"}}, t.not_made);
  // Never cleared: a failing run must not erase when the drill last passed.
  if (r.result == "passed") set(*last_success_timestamp_, {}, *ended);
}

int RunMetrics::serve(int port, const std::string& bind_address) {
  std::string address = bind_address.find(':') != std::string::npos && bind_address[0] != '['
                            ? "[" + bind_address + "]"
                            : bind_address;
  address += ":" + std::to_string(port);
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(address, 2);
  } catch (const std::exception& e) {
    throw OutputError("cannot serve metrics on " + address + ": " + e.what());
  }
  exposer->RegisterCollectable(registry_);
  auto ports = exposer->GetListeningPorts();
  std::lock_guard lock(mutex_);
  exposer_ = std::move(exposer);
  return ports.empty() ? port : ports.front();
}

void RunMetrics::push(const std::string& gateway_url, const std::string& job,
                      double timeout_seconds) const {
  GatewayAddress address = parse_gateway_url(gateway_url);
  if (!unreserved(job)) {
    throw InputError("pushgateway job name \"" + text::valid_utf8(job) +
                     "\": use letters, digits, '-', '_' and '.' only");
  }
  std::string experiment, cluster;
  {
    std::lock_guard lock(mutex_);
    experiment = experiment_, cluster = cluster_;
  }
  if (experiment.empty()) throw OutputError("metrics push: no run to push (update not called)");
  Labels key = grouping_key(experiment, cluster);
  std::string where = "pushgateway " + address.host + ":" + address.port + " (job " + job +
                      ", experiment " + text::valid_utf8(experiment) + ", cluster " +
                      text::valid_utf8(cluster) + ")";

  auto gateway = std::make_shared<prometheus::Gateway>(address.host, address.port, job, key);
  gateway->RegisterCollectable(registry_);
  // prometheus-cpp's Gateway::Push() sends POST, PushAdd() sends PUT (its
  // names are the reverse of the Pushgateway's). POST is what we want: only
  // the metric names in this push are replaced, so the success timestamp a
  // failing run does not carry survives in the group.
  //
  // The Gateway has no timeout: push on a detached thread and stop waiting.
  // On timeout the request may linger until the process exits.
  auto result = std::make_shared<std::promise<int>>();
  std::future<int> done = result->get_future();
  std::thread([gateway, result, registry = registry_] {
    try {
      result->set_value(gateway->Push());
    } catch (...) {
      result->set_exception(std::current_exception());
    }
  }).detach();
  if (done.wait_for(std::chrono::duration<double>(timeout_seconds)) != std::future_status::ready) {
    throw OutputError(where + ": no answer within " + text::seconds(timeout_seconds));
  }
  int status;
  try {
    status = done.get();
  } catch (const std::exception& e) {
    throw OutputError(where + ": push failed: " + e.what());
  }
  if (status < 0) {
    throw OutputError(where + ": push failed: " + curl_error_text(-status));
  }
  if (status < 200 || status >= 300) {
    throw OutputError(where + ": push failed: HTTP " + std::to_string(status));
  }
}

std::string RunMetrics::text() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace faultline::reports
