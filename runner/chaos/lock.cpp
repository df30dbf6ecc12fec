#include "runner/chaos/lock.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <optional>

#include "runner/common/log.h"

namespace faultline::chaos {

namespace res = kube::resources;
using Kind = kube::ApiError::Kind;

std::string micro_time_now() {
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
            1000000;
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

namespace {
std::string run_of(const std::string& holder) { return holder.substr(0, holder.find('@')); }

bool interruptible_wait(std::stop_token stop, std::chrono::milliseconds d) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lk(m);
  cv.wait_for(lk, stop, d, [] { return false; });
  return !stop.stop_requested();
}
}  // namespace

// Renew every lease/6 with requests bounded by lease/3, and give up once no
// renewal has landed for 2/3 of the lease: a contender takes over only after
// watching the record unchanged for a whole lease, so a third of the lease is
// left for the drill to stop mutating before anyone else may start (client-go:
// retry period < renew deadline < lease duration).
std::chrono::milliseconds RunLock::renew_period() const {
  return std::chrono::milliseconds(std::max(100, lease_seconds_ * 1000 / 6));
}
std::chrono::milliseconds RunLock::renew_timeout() const {
  return std::chrono::milliseconds(std::max(200, lease_seconds_ * 1000 / 3));
}
std::chrono::milliseconds RunLock::renew_deadline() const {
  return std::chrono::milliseconds(std::max(400, lease_seconds_ * 2000 / 3));
}

RunLock::RunLock(kube::Client client, std::string state_namespace, std::string holder,
                 int lease_seconds)
    : client_(std::move(client)),
      renew_client_(
          client_.urgent(std::chrono::milliseconds(std::max(200, lease_seconds * 1000 / 3)), 0)),
      state_ns_(std::move(state_namespace)),
      holder_(std::move(holder)),
      lease_seconds_(lease_seconds) {}

RunLock::~RunLock() {
  try {
    release();
  } catch (const std::exception& e) {
    log::warn(std::string("could not release the drill lock: ") + e.what() +
              " (it expires by itself in " + std::to_string(lease_seconds_) + "s)");
  }
}

nlohmann::json RunLock::lease_body(const std::string& resource_version,
                                   const std::string& acquired) const {
  nlohmann::json meta = {
      {"name", kLockName},
      {"namespace", kLockNamespace},
      {"labels", {{"app.kubernetes.io/managed-by", "faultline"}}},
      {"annotations",
       {{kLockStateNamespaceAnnotation, state_ns_}, {kLockRunAnnotation, run_of(holder_)}}}};
  if (!resource_version.empty()) meta["resourceVersion"] = resource_version;
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", meta},
          {"spec",
           {{"holderIdentity", holder_},
            {"leaseDurationSeconds", lease_seconds_},
            {"acquireTime", acquired},
            {"renewTime", micro_time_now()}}}};
}

void RunLock::start_renewing(Clock::time_point sent) {
  last_renewed_ = sent.time_since_epoch().count();
  lost_ = false;
  held_ = true;
  renewer_ = std::jthread([this](std::stop_token st) { renew_loop(st); });
}

// Creates the Lease (rv "") or replaces the one observed at rv: a
// compare-and-swap, so of two contenders exactly one wins.
void RunLock::take_lease(const std::string& rv) {
  auto sent = Clock::now();
  std::string now = micro_time_now();
  try {
    auto taken =
        rv.empty() ? client_.create(res::kLeases, kLockNamespace, lease_body("", now))
                   : client_.replace(res::kLeases, kLockNamespace, kLockName, lease_body(rv, now));
    std::lock_guard lk(mu_);
    resource_version_ = taken["metadata"].value("resourceVersion", "");
    acquire_time_ = now;
  } catch (const kube::ApiError& e) {
    if (e.kind() == Kind::Conflict)
      throw LockHeldError("another drill took the lock at the same moment");
    throw;
  }
  start_renewing(sent);
}

void RunLock::acquire(const std::function<void(const StaleHolder&)>& before_takeover,
                      std::stop_token stop) {
  std::string observed_rv;
  Clock::time_point observed_at{};
  for (;;) {
    nlohmann::json existing;
    try {
      existing = client_.get(res::kLeases, kLockNamespace, kLockName);
    } catch (const kube::ApiError& e) {
      if (e.kind() != Kind::NotFound) throw;
      take_lease("");
      return;
    }
    const auto& meta = existing.value("metadata", nlohmann::json::object());
    const auto& spec = existing.value("spec", nlohmann::json::object());
    std::string rv = meta.value("resourceVersion", "");
    std::string holder = spec.value("holderIdentity", "");
    int duration = spec.value("leaseDurationSeconds", lease_seconds_);
    bool take = holder.empty() || holder_is_dead_here(holder);
    if (!take) {
      if (observed_rv.empty()) {
        observed_rv = rv;
        observed_at = Clock::now();
        log::info("the drill lock is held by " + holder +
                  ": watching whether it is renewed (up to " + std::to_string(duration) + "s)");
      } else if (rv != observed_rv) {
        throw LockHeldError("another drill holds the lock: " + holder + " (lease " +
                            kLockNamespace + "/" + kLockName +
                            " was renewed while we watched); one drill per cluster: wait for it");
      }
      take = Clock::now() - observed_at >= std::chrono::seconds(duration);
    }
    if (!take) {
      if (!interruptible_wait(stop, std::chrono::milliseconds(500)))
        throw LockHeldError("stopped while waiting for the drill lock of " + holder);
      continue;
    }
    take_lease(rv);
    if (!holder.empty()) {
      const auto& ann = meta.value("annotations", nlohmann::json::object());
      StaleHolder stale{holder, ann.value(kLockRunAnnotation, run_of(holder)),
                        ann.value(kLockStateNamespaceAnnotation, "")};
      log::warn("took over the stale drill lock of " + holder + ": rolling back what it left");
      before_takeover(stale);
    }
    return;
  }
}

bool RunLock::valid() const {
  if (!held_ || lost_) return false;
  auto last = Clock::time_point(Clock::duration(last_renewed_.load()));
  return Clock::now() - last < renew_deadline();
}

void RunLock::check_valid() const {
  if (!valid())
    throw LockLostError("lost the drill lock (" + std::string(kLockNamespace) + "/" + kLockName +
                        ")");
}

void RunLock::lose(const std::string& why) {
  if (lost_.exchange(true)) return;
  log::error("lost the drill lock: " + why);
  if (on_lost_) on_lost_("lost the drill lock: " + why);
}

// One renewal. A 409 is not proof of loss: the answer to our previous renewal
// may have been lost after it landed, leaving us with a stale resourceVersion.
// Re-read the Lease; if it still names us, adopt its version and renew again.
bool RunLock::renew_once(bool after_conflict) {
  auto sent = Clock::now();
  // Each request ends by the renew deadline at the latest: a hung request
  // must not carry us past the point where a contender may take over.
  auto last = Clock::time_point(Clock::duration(last_renewed_.load()));
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(renew_deadline() - (sent - last));
  if (left <= std::chrono::milliseconds(0)) {
    lose("no renewal landed for " + std::to_string(renew_deadline().count()) + "ms");
    return false;
  }
  kube::Client renew_client = client_.urgent(std::min(renew_timeout(), left), 0);
  std::string rv, acquired;
  {
    std::lock_guard lk(mu_);
    rv = resource_version_;
    acquired = acquire_time_;
  }
  try {
    auto renewed =
        renew_client.replace(res::kLeases, kLockNamespace, kLockName, lease_body(rv, acquired));
    std::lock_guard lk(mu_);
    resource_version_ = renewed["metadata"].value("resourceVersion", "");
    last_renewed_ = sent.time_since_epoch().count();
    return true;
  } catch (const kube::ApiError& e) {
    if (e.kind() == Kind::NotFound) {
      lose("the Lease " + std::string(kLockNamespace) + "/" + kLockName + " was deleted");
      return false;
    }
    if (e.kind() != Kind::Conflict || after_conflict) {
      log::warn(std::string("renewing the drill lock failed: ") + e.what());
      return true;  // the renew deadline decides (renew_loop)
    }
  }
  nlohmann::json current;
  try {
    current = renew_client.get(res::kLeases, kLockNamespace, kLockName);
  } catch (const kube::ApiError& e) {
    if (e.kind() == Kind::NotFound) {
      lose("the Lease " + std::string(kLockNamespace) + "/" + kLockName + " was deleted");
      return false;
    }
    log::warn(std::string("re-reading the drill lock after a conflict failed: ") + e.what());
    return true;
  }
  std::string holder = current.value("spec", nlohmann::json::object()).value("holderIdentity", "");
  if (holder != holder_) {
    lose("it is now held by " + (holder.empty() ? std::string("nobody") : holder));
    return false;
  }
  {
    std::lock_guard lk(mu_);
    resource_version_ = current["metadata"].value("resourceVersion", "");
  }
  return renew_once(true);
}

void RunLock::renew_loop(std::stop_token stop) {
  while (interruptible_wait(stop, renew_period())) {
    if (!renew_once()) return;
    if (!valid()) {
      lose("no renewal landed for " + std::to_string(renew_deadline().count()) + "ms");
      return;
    }
  }
}

void RunLock::release() {
  if (!held_.exchange(false)) return;
  if (renewer_.joinable()) {
    renewer_.request_stop();
    renewer_.join();
  }
  if (lost_) return;  // not ours any more: leave it to its holder
  kube::DeleteOptions options;
  {
    std::lock_guard lk(mu_);
    options.precondition_resource_version = resource_version_;
  }
  try {
    renew_client_.remove(res::kLeases, kLockNamespace, kLockName, options);
  } catch (const kube::ApiError& e) {
    if (e.kind() != Kind::NotFound && e.kind() != Kind::Conflict) throw;
  }
}

}  // namespace faultline::chaos
