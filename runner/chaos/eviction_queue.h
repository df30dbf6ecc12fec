// The drain's evictions, handed out as the PodDisruptionBudgets allow them.
// The PDB watch feeds each budget's status.disruptionsAllowed; a worker takes
// a pod only when every PDB covering it has a disruption left (minus the
// evictions in flight, and those accepted that the status does not show yet:
// the eviction API records each in status.disruptedPods in the same write
// that decrements disruptionsAllowed, so a status without the pod is older
// than the eviction), so evictions go out
// as the budget frees instead of after a fixed sleep on each 429 (issue 14).
// The API server stays the judge: a 429 means our view was ahead of it, and
// that PDB hands out nothing more until its status changes.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

namespace faultline::chaos {

class EvictionQueue {
 public:
  using Clock = std::chrono::steady_clock;
  struct Item {
    std::string ns, name;
    std::shared_ptr<const nlohmann::json> labels;  // shared by the pods of one template
  };
  // How long a PDB that refused stays closed when its status does not change
  // (a watch that missed the update must not stall the drain), and how long
  // a pod under no known PDB waits after a 429 without Retry-After.
  struct Timing {
    std::chrono::milliseconds closed_at_most{5000};
    std::chrono::milliseconds uncovered_retry{200};
    std::chrono::milliseconds conflict_retry{50};  // a 409 race on the PDB status
    // An eviction the server did not answer (timeout, reset, 5xx): an
    // overloaded control plane, which a prompt retry would load more.
    std::chrono::milliseconds unanswered_retry{1000};
    // An accepted eviction the status never shows (the controller dropped
    // it from disruptedPods before we saw it there) stops counting after this.
    std::chrono::milliseconds unconfirmed_at_most{5000};
  };

  explicit EvictionQueue(std::vector<Item> items) : EvictionQueue(std::move(items), Timing()) {}
  EvictionQueue(std::vector<Item> items, Timing timing);

  // The PDB view (from the PDB watch). `pdb` is the object as watched.
  void set_pdb(const nlohmann::json& pdb);
  void erase_pdb(const nlohmann::json& pdb);
  // The first list of PDBs is in: nothing is handed out before, so a budget
  // not yet seen is never ignored.
  void synced();
  // No PDB view (the watch failed): every pod is handed out, and a refused
  // one waits `Timing::closed_at_most` before its next try.
  void blind();

  // The next pod to evict, its PDBs' disruptions taken. nullopt when no pod
  // is left waiting, at `until`, or on stop.
  std::optional<size_t> next(Clock::time_point until, std::stop_token stop);
  void evicted(size_t i);  // accepted by the API server
  // 429: back in the queue; its PDBs are closed until their status changes.
  void refused(size_t i, std::optional<double> retry_after_seconds);
  void retry(size_t i);  // a 409 race on the PDB status: back in the queue
  // No answer (transport error, timeout, 5xx): back in the queue after
  // `Timing::unanswered_retry`. Safe to repeat: if the first one was
  // applied, the pod is terminating and the server evicts it again without
  // a PDB check; the UID precondition keeps it off a replacement.
  void unanswered(size_t i);
  void drop(size_t i);  // gone or failed: off the queue

  size_t waiting() const;  // pods not yet handed out
  int refusals() const;

 private:
  struct Budget {
    std::string ns, selector, resource_version;
    bool has_selector = false;
    int allowed = 0;                  // status.disruptionsAllowed (0 while the status is stale)
    int in_flight = 0;                // evictions sent, not yet answered
    std::set<std::string> disrupted;  // status.disruptedPods
    std::map<std::string, Clock::time_point> unconfirmed;  // accepted, not in `disrupted` yet
    bool closed = false;                                   // refused at `resource_version`
    Clock::time_point closed_until{};
    int left(Clock::time_point now) const;
  };
  enum class State { Waiting, InFlight, Done };
  struct Entry {
    Item item;
    State state = State::Waiting;
    Clock::time_point not_before{};
    std::vector<std::string> taken;  // PDB keys charged while in flight
    std::vector<std::string> covering;
    uint64_t covering_generation = 0;  // of budgets_' selectors, + 1; 0: never computed
  };
  const std::vector<std::string>& covering(Entry& e) const;
  void give_back(Entry& e, bool accepted);
  void requeue(size_t i, std::chrono::milliseconds after);  // under mu_
  void changed();                                           // under mu_: wakes next()

  Timing timing_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::vector<Entry> entries_;
  std::map<std::string, Budget> budgets_;  // "ns/name"
  uint64_t generation_ = 0;                // bumped when a selector comes, goes or changes
  std::vector<size_t> waiting_;            // in the order they go out
  size_t in_flight_ = 0;
  uint64_t changes_ = 0;
  bool synced_ = false, blind_ = false;
  int refusals_ = 0;
};

}  // namespace faultline::chaos
