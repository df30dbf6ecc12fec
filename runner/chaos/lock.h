// One drill at a time: a coordination.k8s.io/v1 Lease in faultline's state
// namespace, renewed while the run lives. A lease whose holder stopped renewing
// is taken over only after the caller has rolled back what the dead holder left
// (see Recovery), which is why acquire() takes a callback.
#pragma once

#include <atomic>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

#include "runner/kube/client.h"

namespace faultline::chaos {

// Another live drill holds the lock.
class LockHeldError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class RunLock {
 public:
  RunLock(kube::Client client, std::string state_namespace, std::string holder,
          int lease_seconds = 30);
  ~RunLock();

  // Takes the lock. If it is held by a holder whose lease expired,
  // before_takeover(old_holder) runs first (it must roll back stale journals
  // and throw if it cannot). Throws LockHeldError when a live drill holds it.
  void acquire(const std::function<void(const std::string&)>& before_takeover);
  // Stops renewing and frees the lease (only if we still hold it).
  void release();
  bool held() const { return held_; }

 private:
  void renew_loop(std::stop_token stop);
  nlohmann::json lease_body(const std::string& resource_version) const;

  kube::Client client_;
  std::string ns_, holder_;
  int lease_seconds_;
  std::atomic<bool> held_{false};
  std::string resource_version_;
  std::jthread renewer_;
};

// "@<host>/<boot id>/<pid>": appended to a holder identity so that a holder that died
// on this host is recognised at once (see holder_is_dead_here).
std::string local_holder_suffix();
bool holder_is_dead_here(const std::string& holder);

// RFC 3339 with microseconds, as Lease.spec.renewTime wants.
std::string micro_time_now();
// Seconds since the epoch of an RFC 3339 time; nullopt when unparsable.
std::optional<double> parse_rfc3339(const std::string& text);

}  // namespace faultline::chaos
