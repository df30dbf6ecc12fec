#include "runner/observe/prometheus_probe.h"

#include <curl/curl.h>

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

#include "runner/common/duration.h"
#include "runner/common/log.h"
#include "runner/observe/curl_util.h"

namespace faultline::observe {
namespace {

using json = nlohmann::json;
constexpr size_t kMaxResponse = 4 * 1024 * 1024;

size_t append(char* data, size_t size, size_t n, void* userp) {
  auto* out = static_cast<std::string*>(userp);
  size_t bytes = size * n;
  if (out->size() + bytes > kMaxResponse) return 0;  // aborts the transfer: not a sane answer
  out->append(data, bytes);
  return bytes;
}

// Prometheus sends sample values as strings ("1", "NaN", "+Inf").
std::optional<double> sample_value(const json& pair) {
  if (!pair.is_array() || pair.size() != 2 || !pair[1].is_string()) return std::nullopt;
  const std::string& text = pair[1].get_ref<const std::string&>();
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != 0) return std::nullopt;
  return v;
}

std::string read_token(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read bearer_token_file " + path;
    return "";
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string token = ss.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
    token.pop_back();
  return token;
}

}  // namespace

ValueSample parse_query_response(int http_status, const std::string& body) {
  ValueSample s;
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    s.error = "HTTP " + std::to_string(http_status) + ": response is not JSON";
    return s;
  }
  if (j.value("status", "") != "success") {
    std::string why = j.contains("error") && j["error"].is_string() ? j["error"].get<std::string>()
                                                                    : "no error message";
    s.error = "query failed (HTTP " + std::to_string(http_status) + "): " + why;
    return s;
  }
  const json& data = j.contains("data") ? j["data"] : json();
  std::string type = data.is_object() ? data.value("resultType", "") : "";
  const json& result = data.is_object() && data.contains("result") ? data["result"] : json();
  std::optional<double> value;
  if (type == "scalar") {
    value = sample_value(result);
  } else if (type == "vector" && result.is_array()) {
    if (result.empty()) {
      s.error = "empty result (no series matched)";
      return s;
    }
    if (result.size() > 1) {
      s.error = "query returned " + std::to_string(result.size()) +
                " series; expected one (aggregate it, e.g. sum(...))";
      return s;
    }
    if (result[0].is_object() && result[0].contains("value"))
      value = sample_value(result[0]["value"]);
  } else {
    s.error = "unsupported result type \"" + type + "\" (expected vector or scalar)";
    return s;
  }
  if (!value) {
    s.error = "malformed sample in the response";
    return s;
  }
  s.ok = true;
  s.value = *value;
  return s;
}

ValueSample prometheus_query(const PrometheusProbeSpec& spec, Clock::time_point t0) {
  ensure_curl_global();
  ValueSample s;
  s.t = seconds_between(t0, Clock::now());
  std::string token;
  if (!spec.bearer_token_file.empty()) {
    token = read_token(spec.bearer_token_file, &s.error);
    if (!s.error.empty()) return s;
  }
  std::unique_ptr<CURL, void (*)(CURL*)> easy(curl_easy_init(), curl_easy_cleanup);
  if (!easy) {
    s.error = "curl_easy_init failed";
    return s;
  }
  std::string base = spec.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string url = base + "/api/v1/query?query=" + url_escape(spec.query);
  std::string body;
  char errbuf[CURL_ERROR_SIZE] = {};
  auto timeout = spec.timeout.count() > 0 ? spec.timeout : std::min(spec.every, Seconds(10));
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  std::string auth;
  if (!token.empty()) {
    auth = "Authorization: Bearer " + token;
    headers = curl_slist_append(headers, auth.c_str());
  }
  CURL* h = easy.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count() * 1000));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "faultline");
  if (!spec.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, spec.ca_file.c_str());
  if (spec.insecure_skip_tls_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    s.error = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
    return s;
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  ValueSample parsed = parse_query_response(static_cast<int>(status), body);
  parsed.t = s.t;
  return parsed;
}

PrometheusPoller::PrometheusPoller(PrometheusProbeSpec spec, Clock::time_point t0, Sink sink)
    : spec_(std::move(spec)), t0_(t0), sink_(std::move(sink)) {}

PrometheusPoller::~PrometheusPoller() { stop(); }

void PrometheusPoller::start() {
  thread_ = std::jthread([this](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    auto every = std::chrono::duration_cast<Clock::duration>(spec_.every);
    auto next = Clock::now();
    while (!stop.stop_requested()) {
      // An exception must not leave this thread (std::terminate: no
      // rollback); a query that threw is a failed sample like any other.
      try {
        sink_(prometheus_query(spec_, t0_));
      } catch (const std::exception& e) {
        ValueSample failed;
        failed.t = std::chrono::duration<double>(Clock::now() - t0_).count();
        failed.error = std::string("query failed: ") + e.what();
        log::error("prometheus probe: " + failed.error);
        try {
          sink_(failed);
        } catch (const std::exception& again) {
          log::error(std::string("prometheus probe: recording a failed sample: ") + again.what());
        }
      }
      next += every;
      auto now = Clock::now();
      while (next <= now) next += every;  // a slow query skips slots rather than bunching them
      std::unique_lock lock(mu);
      cv.wait_until(lock, stop, next, [] { return false; });
    }
  });
}

void PrometheusPoller::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

}  // namespace faultline::observe
