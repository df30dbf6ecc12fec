#include "runner/observe/vantage.h"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <ctime>

#include "runner/common/log.h"

namespace faultline::observe {

using json = nlohmann::json;

namespace {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// RFC 3339 at whole seconds, rounded down (sinceTime has second precision).
std::string rfc3339(double unix_seconds) {
  std::time_t t = static_cast<std::time_t>(std::floor(unix_seconds));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool pause(std::stop_token stop, std::chrono::milliseconds d) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

std::string ms_text(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f ms", seconds * 1000);
  return buf;
}

}  // namespace

std::string vantage_series(const std::string& probe, const std::string& zone) {
  return probe + "@" + zone;
}

std::optional<std::pair<std::string, std::string>> split_vantage_series(const std::string& series) {
  auto at = series.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == series.size()) return std::nullopt;
  return std::make_pair(series.substr(0, at), series.substr(at + 1));
}

json vantage_pod(const VantagePodParams& p) {
  json selector = {{"topology.kubernetes.io/zone", p.zone}};
  for (const auto& [k, v] : p.node_selector) selector[k] = v;
  // faultline's own zone-failure taint: a faulted zone's vantage stays as
  // long as its node lives, so the report shows what that zone saw.
  json tolerations = json::array(
      {{{"key", "faultline.io/zone-failure"}, {"operator", "Exists"}, {"effect", "NoExecute"}}});
  for (const auto& t : p.tolerations) {
    json j = json::object();
    for (const auto& [k, v] : t) j[k] = v;
    tolerations.push_back(std::move(j));
  }
  char rate[32], timeout[32];
  std::snprintf(rate, sizeof rate, "%g/s", p.rate);
  std::snprintf(timeout, sizeof timeout, "%gms", std::round(p.timeout_s * 1000));
  json args = {"probe", "--url", p.url, "--rate", rate, "--timeout", timeout, "--zone", p.zone};
  if (!p.keepalive) args.push_back("--no-keepalive");
  return {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", p.name},
        {"namespace", p.namespace_},
        {"labels",
         {{"app.kubernetes.io/managed-by", "faultline"},
          {"app.kubernetes.io/component", "vantage-probe"},
          {"faultline.io/run", p.run_id},
          {"faultline.io/vantage-zone", p.zone}}},
        {"annotations", {{"faultline.io/probe", p.probe}}}}},
      {"spec",
       {{"restartPolicy", "Never"},
        {"automountServiceAccountToken", false},
        {"enableServiceLinks", false},
        {"activeDeadlineSeconds", p.max_seconds},
        {"terminationGracePeriodSeconds", 5},
        {"nodeSelector", selector},
        {"tolerations", tolerations},
        // The restricted Pod Security Standard, like the runner's own pod.
        {"securityContext",
         {{"runAsNonRoot", true},
          {"runAsUser", 65532},
          {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
        {"containers", json::array({{{"name", "probe"},
                                     {"image", p.image},
                                     {"imagePullPolicy", "IfNotPresent"},
                                     {"args", args},
                                     {"resources",
                                      {{"requests", {{"cpu", "20m"}, {"memory", "32Mi"}}},
                                       {"limits", {{"memory", "128Mi"}}}}},
                                     {"securityContext",
                                      {{"readOnlyRootFilesystem", true},
                                       {"allowPrivilegeEscalation", false},
                                       {"capabilities", {{"drop", json::array({"ALL"})}}}}}}})}}}};
}

VantageStream::VantageStream(double rate, double timeout_s, double run_t0_unix)
    : rate_(rate), timeout_s_(timeout_s), run_t0_unix_(run_t0_unix) {}

long long VantageStream::slot_of(double pod_t) const {
  return std::llround((pod_t - *start_pod_) * rate_);
}

void VantageStream::observe_offset(double candidate) {
  if (!offset_ || candidate < *offset_) offset_ = candidate;
}

std::optional<RequestSample> VantageStream::feed(std::string_view line, double arrival_unix) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("t") || !j["t"].is_number()) {
    ++malformed_;
    return std::nullopt;
  }
  double t = j["t"].get<double>();
  if (j.contains("probe")) {  // {"probe":"start"|"error",...}
    std::string what = j.value("probe", "");
    if (what == "start") {
      if (!start_pod_) start_pod_ = t;
      observe_offset(arrival_unix - t);
    } else if (what == "error") {
      probe_error_ = j.value("error", "probe error");
    }
    return std::nullopt;
  }
  if (!start_pod_) {  // the header was cut (a sinceTime past it): the first sample starts it
    start_pod_ = t;
  }
  double latency_ms = j.value("latency_ms", 0.0);
  observe_offset(arrival_unix - (t + latency_ms / 1000));
  if (!seen_.insert(slot_of(t)).second) return std::nullopt;  // replayed after a reconnect
  if (!last_pod_t_ || t > *last_pod_t_) last_pod_t_ = t;
  RequestSample s;
  s.t = run_t(t);
  s.sent = s.t;
  s.latency_ms = latency_ms;
  s.status = j.value("status", 0);
  s.ok = j.value("ok", false);
  s.error = j.value("error", std::string());
  if (!s.ok && s.error.empty()) s.error = "failed";
  return s;
}

std::vector<RequestSample> VantageStream::lost_until(double end_unix) {
  std::vector<RequestSample> lost;
  if (!start_pod_) return lost;
  // A request sent later than this could still be in flight when we stopped.
  double last_due = end_unix - offset() - timeout_s_ - 1.0;
  long long last = static_cast<long long>(std::floor((last_due - *start_pod_) * rate_));
  for (long long k = lost_through_ + 1; k <= last; ++k) {
    if (seen_.count(k)) continue;
    RequestSample s;
    s.t = s.sent = run_t(*start_pod_ + double(k) / rate_);
    s.ok = false;
    s.error = kVantageLost;
    lost.push_back(std::move(s));
  }
  lost_through_ = std::max(lost_through_, last);
  return lost;
}

VantageFollower::VantageFollower(kube::Client& client, std::string ns, std::string pod,
                                 std::string series, Timeline& timeline, double rate,
                                 double timeout_s, Clock::time_point t0)
    : client_(client),
      ns_(std::move(ns)),
      pod_(std::move(pod)),
      series_(std::move(series)),
      timeline_(timeline),
      t0_(t0),
      t0_unix_(unix_now() - seconds_between(t0, Clock::now())),
      stream_(rate, timeout_s, t0_unix_) {
  timeline_.declare(series_, SeriesKind::Requests);
}

VantageFollower::~VantageFollower() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void VantageFollower::start() {
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void VantageFollower::run(std::stop_token stop) {
  auto backoff = std::chrono::milliseconds(500);
  const std::string base =
      "/api/v1/namespaces/" + ns_ + "/pods/" + pod_ + "/log?container=probe&follow=true";
  while (!stop.stop_requested()) {
    std::string path = base;
    {
      std::lock_guard lock(mu_);
      if (auto last = stream_.last_pod_t()) path += "&sinceTime=" + rfc3339(*last - 1);
    }
    try {
      client_.stream_lines(
          path, "pods/log", pod_,
          [&](std::string_view line) {
            double arrival = unix_now();
            std::lock_guard lock(mu_);
            if (auto s = stream_.feed(line, arrival)) {
              timeline_.add(series_, std::move(*s));
              ++received_;
            }
            return true;
          },
          stop);
      backoff = std::chrono::milliseconds(500);
    } catch (const std::exception& e) {
      std::lock_guard lock(mu_);
      if (last_error_ != e.what()) log::warn("vantage " + series_ + ": " + e.what());
      last_error_ = e.what();
    }
    if (!pause(stop, backoff)) return;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
}

void VantageFollower::finish(double end) {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  if (finished_) return;
  finished_ = true;
  auto lost = stream_.lost_until(t0_unix_ + end);
  lost_ = lost.size();
  for (auto& s : lost) timeline_.add(series_, std::move(s));
}

std::string VantageFollower::summary() const {
  std::lock_guard lock(mu_);
  std::string s = std::to_string(stream_.received()) + " samples, " + std::to_string(lost_) +
                  " lost, clock offset estimate " + ms_text(stream_.offset()) +
                  " (too large by at most the fastest log delivery)";
  if (!stream_.probe_error().empty()) s += "; the probe failed: " + stream_.probe_error();
  if (!last_error_.empty()) s += "; last log stream error: " + last_error_;
  return s;
}

double VantageFollower::clock_offset() const {
  std::lock_guard lock(mu_);
  return stream_.offset();
}

std::string VantageFollower::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

}  // namespace faultline::observe
