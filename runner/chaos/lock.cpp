#include "runner/chaos/lock.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <ctime>

#include "runner/common/log.h"

namespace faultline::chaos {

namespace res = kube::resources;
using Kind = kube::ApiError::Kind;

std::string micro_time_now() {
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[80];
  std::snprintf(out, sizeof out, "%s.%06lldZ", buf, static_cast<long long>(us));
  return out;
}

std::optional<double> parse_rfc3339(const std::string& text) {
  std::tm tm{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return std::nullopt;
  double frac = 0;
  if (*rest == '.') {
    char* end = nullptr;
    frac = std::strtod(rest, &end);
    rest = end;
  }
  return static_cast<double>(timegm(&tm)) + frac;
}

namespace {
// host + this boot's id: hostnames alone collide ("localhost"), PIDs are
// only meaningful within one boot of one machine.
std::string local_machine() {
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  std::string boot = "noboot";
  if (FILE* f = std::fopen("/proc/sys/kernel/random/boot_id", "r")) {
    char buf[64] = {};
    if (std::fgets(buf, sizeof buf, f)) boot = std::string(buf).substr(0, 8);
    std::fclose(f);
  }
  return std::string(host) + "/" + boot;
}
}  // namespace

std::string local_holder_suffix() { return "@" + local_machine() + "/" + std::to_string(getpid()); }

// A holder "<run>@<host>/<boot>/<pid>" from this machine and boot whose
// process is gone died without releasing the lock (SIGKILL, OOM): no need to
// wait for the lease to expire. A holder elsewhere is judged by its lease.
bool holder_is_dead_here(const std::string& holder) {
  auto at = holder.rfind('@'), slash = holder.rfind('/');
  if (at == std::string::npos || slash == std::string::npos || slash < at) return false;
  if (holder.substr(at + 1, slash - at - 1) != local_machine()) return false;
  pid_t pid = 0;
  try {
    pid = static_cast<pid_t>(std::stol(holder.substr(slash + 1)));
  } catch (const std::exception&) {
    return false;
  }
  return pid > 0 && kill(pid, 0) != 0 && errno == ESRCH;
}

RunLock::RunLock(kube::Client client, std::string state_namespace, std::string holder, int lease_seconds)
    : client_(std::move(client)), ns_(std::move(state_namespace)), holder_(std::move(holder)),
      lease_seconds_(lease_seconds) {}

RunLock::~RunLock() {
  try {
    release();
  } catch (const std::exception& e) {
    log::warn(std::string("could not release the drill lock: ") + e.what() +
              " (it expires by itself in " + std::to_string(lease_seconds_) + "s)");
  }
}

nlohmann::json RunLock::lease_body(const std::string& resource_version) const {
  nlohmann::json meta = {{"name", "faultline-lock"}, {"namespace", ns_},
                         {"labels", {{"app.kubernetes.io/managed-by", "faultline"}}}};
  if (!resource_version.empty()) meta["resourceVersion"] = resource_version;
  auto now = micro_time_now();
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", meta},
          {"spec",
           {{"holderIdentity", holder_},
            {"leaseDurationSeconds", lease_seconds_},
            {"acquireTime", now},
            {"renewTime", now}}}};
}

void RunLock::acquire(const std::function<void(const std::string&)>& before_takeover) {
  nlohmann::json existing;
  try {
    existing = client_.get(res::kLeases, ns_, "faultline-lock");
  } catch (const kube::ApiError& e) {
    if (e.kind() != Kind::NotFound) throw;
    try {
      auto created = client_.create(res::kLeases, ns_, lease_body(""));
      resource_version_ = created["metadata"].value("resourceVersion", "");
    } catch (const kube::ApiError& c) {
      if (c.kind() == Kind::Conflict) throw LockHeldError("another drill took the lock at the same moment");
      throw;
    }
    held_ = true;
    renewer_ = std::jthread([this](std::stop_token st) { renew_loop(st); });
    return;
  }
  const auto& spec = existing.value("spec", nlohmann::json::object());
  std::string holder = spec.value("holderIdentity", "");
  if (!holder.empty()) {
    double duration = spec.value("leaseDurationSeconds", lease_seconds_);
    auto renewed = parse_rfc3339(spec.value("renewTime", ""));
    double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (renewed && *renewed + duration > now && !holder_is_dead_here(holder)) {
      throw LockHeldError("another drill holds the lock: " + holder + " (lease " + ns_ +
                          "/faultline-lock, renewed " + std::to_string(static_cast<int>(now - *renewed)) +
                          "s ago); wait for it, or for the lease to expire after " +
                          std::to_string(static_cast<int>(duration)) + "s without renewal");
    }
    log::warn("taking over the stale drill lock of " + holder + ": rolling back what it left first");
    before_takeover(holder);
  }
  try {
    auto replaced = client_.replace(res::kLeases, ns_, "faultline-lock",
                                    lease_body(existing["metadata"].value("resourceVersion", "")));
    resource_version_ = replaced["metadata"].value("resourceVersion", "");
  } catch (const kube::ApiError& e) {
    if (e.kind() == Kind::Conflict) throw LockHeldError("another drill took the lock at the same moment");
    throw;
  }
  held_ = true;
  renewer_ = std::jthread([this](std::stop_token st) { renew_loop(st); });
}

void RunLock::renew_loop(std::stop_token stop) {
  std::mutex m;
  std::condition_variable_any cv;
  const auto period = std::chrono::milliseconds(lease_seconds_ * 1000 / 3);
  while (!stop.stop_requested()) {
    {
      std::unique_lock lk(m);
      cv.wait_for(lk, stop, period, [] { return false; });
    }
    if (stop.stop_requested()) return;
    try {
      auto body = lease_body(resource_version_);
      auto renewed = client_.replace(res::kLeases, ns_, "faultline-lock", body);
      resource_version_ = renewed["metadata"].value("resourceVersion", "");
    } catch (const std::exception& e) {
      // Keep trying: a transient API error must not drop the lock mid-drill.
      log::warn(std::string("renewing the drill lock failed: ") + e.what());
    }
  }
}

void RunLock::release() {
  if (!held_.exchange(false)) return;
  if (renewer_.joinable()) {
    renewer_.request_stop();
    renewer_.join();
  }
  kube::DeleteOptions options;
  options.precondition_resource_version = resource_version_;
  try {
    client_.remove(res::kLeases, ns_, "faultline-lock", options);
  } catch (const kube::ApiError& e) {
    if (e.kind() != Kind::NotFound && e.kind() != Kind::Conflict) throw;
  }
}

}  // namespace faultline::chaos
