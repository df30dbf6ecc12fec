// One drill per cluster: a coordination.k8s.io/v1 Lease, renewed while the run
// lives, read the way client-go's leader election reads its lock
// (tools/leaderelection): a holder is judged alive or dead by how long *we*
// have watched its record stay unchanged, never by comparing its timestamps
// with our clock; a renewal that cannot land well inside the lease means the
// lock is lost, and losing it stops the drill at once (on_lost).
//
// The Lease lives at a fixed place, kLockNamespace/kLockName, whatever the
// run's --state-namespace: Leases are namespaced, and a lock per state
// namespace let two drills (each with max_zones: 1) take two zones down
// together. The journal stays in the state namespace; the Lease records it
// (annotation kLockStateNamespaceAnnotation) so a takeover knows where the
// dead holder's journal is.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>

#include "runner/kube/client.h"

namespace faultline::chaos {

inline constexpr const char* kLockNamespace = "faultline";
inline constexpr const char* kLockName = "faultline-lock";
inline constexpr const char* kLockStateNamespaceAnnotation = "faultline.io/state-namespace";
inline constexpr const char* kLockRunAnnotation = "faultline.io/run";

// Another live drill holds the lock.
class LockHeldError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// We no longer hold the lock (or cannot prove we do): nothing may be mutated.
class LockLostError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The holder whose lease we took over: its run's journal and annotations are
// what the takeover must roll back, and nothing else.
struct StaleHolder {
  std::string holder;           // "<run>@<host>/<boot>/<pid>"
  std::string run_id;           // the part before '@'
  std::string state_namespace;  // where its journal is ("" when unknown: ours)
};

class RunLock {
 public:
  // holder: "<run id>" + local_holder_suffix(). state_namespace: where this
  // run's journal lives (recorded on the Lease).
  RunLock(kube::Client client, std::string state_namespace, std::string holder,
          int lease_seconds = 30);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  // Called once, from the renewing thread, when the lock is lost (taken by
  // another holder, or not renewed within the renew deadline). Set before
  // acquire().
  void on_lost(std::function<void(const std::string& why)> fn) { on_lost_ = std::move(fn); }

  // Takes the lock. A lease held by someone else is taken only when its
  // holder released it, died on this machine (holder_is_dead_here), or its
  // record stayed unchanged for a whole lease duration while we watched; a
  // change in that time means a live holder: LockHeldError. The takeover is a
  // compare-and-swap on the observed resourceVersion; only once it succeeded
  // (and the renewer runs) is before_takeover(stale) called, which must roll
  // back what the stale holder left and throw if it cannot. `stop` ends the
  // wait (LockHeldError).
  void acquire(const std::function<void(const StaleHolder&)>& before_takeover,
               std::stop_token stop = {});
  // Stops renewing and frees the lease (only if we still hold it).
  void release();
  bool held() const { return held_; }
  // Held, not lost, and renewed within the renew deadline: mutations are safe.
  bool valid() const;
  // Throws LockLostError unless valid().
  void check_valid() const;

  std::chrono::milliseconds renew_period() const;
  std::chrono::milliseconds renew_timeout() const;   // each renewal request
  std::chrono::milliseconds renew_deadline() const;  // since the last renewal that landed

 private:
  using Clock = std::chrono::steady_clock;
  void renew_loop(std::stop_token stop);
  bool renew_once(bool after_conflict = false);  // false: lost (and reported)
  void lose(const std::string& why);
  void start_renewing(Clock::time_point sent);
  void take_lease(const std::string& observed_rv);
  nlohmann::json lease_body(const std::string& resource_version, const std::string& acquired) const;

  kube::Client client_;        // acquire and release
  kube::Client renew_client_;  // bounded requests, no rate limiter
  std::string state_ns_, holder_;
  int lease_seconds_;
  std::atomic<bool> held_{false}, lost_{false};
  std::atomic<Clock::rep> last_renewed_{0};  // when the last landed renewal was sent
  std::mutex mu_;                            // resource_version_, acquire_time_
  std::string resource_version_, acquire_time_;
  std::function<void(const std::string&)> on_lost_;
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
