// The journal: every mutation a run makes, recorded in the cluster *before*
// it is made, so that any machine can undo it (`faultline recover`, or the
// next run) even if this runner is SIGKILLed. Stored in faultline's state
// namespace as ConfigMaps of kEntriesPerShard entries each (a ConfigMap holds
// at most 1 MiB; a 10k-pod drain needs ~2 MiB): the head
// `faultline-journal-<run>` holds the run's meta and entries 1..500, shard k
// `faultline-journal-<run>-<k>` the next 500. Only the shards whose entries
// changed are written. Nodes we touch also carry an annotation naming the
// run, written in the same patch as the mutation itself.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "runner/kube/client.h"

namespace faultline::chaos {

using json = nlohmann::json;

inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kJournalLabel = "faultline.io/journal";
inline constexpr const char* kRunAnnotation = "faultline.io/run";
inline constexpr const char* kCordonedAnnotation = "faultline.io/cordoned-by";
inline constexpr const char* kTaintedAnnotation = "faultline.io/tainted-by";
inline constexpr const char* kFailureTaintKey = "faultline.io/zone-failure";

// Entries per ConfigMap. An entry is at most ~700 bytes (names are bounded by
// the API, notes by kMaxNoteBytes), so a shard stays far below 1 MiB.
inline constexpr size_t kEntriesPerShard = 500;
inline constexpr size_t kMaxNoteBytes = 256;

struct JournalEntry {
  int id = 0;
  std::string action;  // cordon | taint | evict | delete
  std::string kind;    // node | pod
  std::string ns;      // pods only
  std::string name;
  std::string uid;
  std::string state;      // intended | applied | skipped | reverted | failed | not_reversible
  std::string note;       // why skipped/failed, what was found
  double t_applied = -1;  // seconds since run start
  double t_reverted = -1;
  // Where the mutation was made, for entries of a restore drill (runner/dr):
  // the cluster's name in spec.dr.clusters ("" = the run's own) and the
  // kubeconfig context that reached it, so that `faultline recover` can
  // reach it too (--context-for NAME=CONTEXT when the context differs).
  std::string cluster{};
  std::string context{};
};

// An entry a restore drill made (a velero.io object, a namespace): undone by
// runner/dr in the cluster it names, never by chaos's rollback_entries.
inline bool is_drill_entry(const JournalEntry& e) {
  return e.kind == "namespace" || e.kind.rfind("velero.io/", 0) == 0;
}

void to_json(json& j, const JournalEntry& e);
void from_json(const json& j, JournalEntry& e);

// Creates faultline's state namespace when it is missing (a laptop run
// against a fresh cluster); in-cluster, the manifests create it.
void ensure_namespace(kube::Client& client, const std::string& ns);

class Journal {
 public:
  Journal(kube::Client client, std::string state_namespace, std::string run_id, json meta);

  // Creates the run's ConfigMap (and the namespace if missing). Throws ApiError.
  void open();
  // Called first by every intend(): throws when no mutation may be made now
  // (the drill lock is not valid, the run is rolling back). The one place
  // every mutation passes through before it is made.
  void set_gate(std::function<void()> gate) { gate_ = std::move(gate); }
  // Held (shared) by a fault from before its intend() until its requests
  // are done; throws (through the gate, or MutationsClosed) when no mutation
  // may start. close_mutations() refuses new ones and waits up to `wait` for
  // those in flight, so rollback never races a fault still being applied
  // (a script abandoned mid-call after a stop). Returns false if some were
  // still in flight.
  std::shared_lock<std::shared_timed_mutex> mutating();
  bool close_mutations(std::chrono::milliseconds wait);
  // Appends entries as "intended" and persists them before returning; the
  // caller mutates only after this returns. Returns their ids. When the write
  // fails the entries are dropped again (they were never made) and the error
  // is rethrown: they never ride along in, or break, a later write.
  std::vector<int> intend(std::vector<JournalEntry> entries);
  // Updates entries in memory; persist() writes them.
  void update(int id, const std::string& state, const std::string& note = "", double t = -1);
  void persist();
  // Deletes the ConfigMaps (rollback complete).
  void close();

  std::vector<JournalEntry> entries() const;
  const std::string& run_id() const { return run_id_; }
  const std::string& configmap_name() const { return name_; }

  // Every journal left in the namespace, its shards merged: entries sorted by
  // id, entry_shard[i] the index in `shards` of the ConfigMap entries[i] came
  // from (so save() writes each back where it was).
  struct Stored {
    std::string name;                 // the head's (or, head lost, the first shard's) name
    std::vector<std::string> shards;  // every ConfigMap of the run
    std::string run_id;
    json meta;
    std::vector<JournalEntry> entries;
    std::vector<size_t> entry_shard;
  };
  static std::vector<Stored> list(kube::Client& client, const std::string& state_namespace);
  static void save(kube::Client& client, const std::string& state_namespace, const Stored& stored);
  // Deletes every shard of a stored journal, the head last (a recovery cut
  // short leaves a journal that is still listed and recovered again).
  static void remove(kube::Client& client, const std::string& state_namespace,
                     const Stored& stored);
  static void remove(kube::Client& client, const std::string& state_namespace,
                     const std::string& name);
  static std::string shard_name(const std::string& run_id, size_t shard);

 private:
  json body(size_t shard, const std::string& entries) const;  // shard's ConfigMap
  std::string shard_entries(size_t shard) const;              // its entries as JSON text
  void write_locked();
  void write_shard(size_t shard, const std::string& entries);

  kube::Client client_;
  std::string ns_, run_id_, name_;
  json meta_;
  mutable std::mutex mutex_;
  std::vector<JournalEntry> entries_;  // entries_[i].id == i + 1
  // Per shard: exists on the server (as far as we know), and its entries as
  // last written ("" = unknown, rewrite it).
  std::vector<bool> exists_;
  std::vector<std::string> written_;
  bool opened_ = false;
  std::function<void()> gate_;
  std::shared_timed_mutex in_flight_;
  std::atomic<bool> closed_{false};
};

// No mutation may start: the run is rolling back.
class MutationsClosed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace faultline::chaos
