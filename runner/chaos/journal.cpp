#include "runner/chaos/journal.h"

#include <algorithm>
#include <map>

#include "runner/common/log.h"

namespace faultline::chaos {

namespace res = kube::resources;

void to_json(json& j, const JournalEntry& e) {
  j = json{{"id", e.id},
           {"action", e.action},
           {"kind", e.kind},
           {"namespace", e.ns},
           {"name", e.name},
           {"uid", e.uid},
           {"state", e.state},
           {"note", e.note},
           {"t_applied", e.t_applied},
           {"t_reverted", e.t_reverted}};
  // Only a drill's entries name a cluster: the node and pod entries of a
  // 10k-pod drain stay as small as before.
  if (!e.cluster.empty()) j["cluster"] = e.cluster;
  if (!e.context.empty()) j["context"] = e.context;
}

void from_json(const json& j, JournalEntry& e) {
  e.id = j.value("id", 0);
  e.action = j.value("action", "");
  e.kind = j.value("kind", "");
  e.ns = j.value("namespace", "");
  e.name = j.value("name", "");
  e.uid = j.value("uid", "");
  e.state = j.value("state", "");
  e.note = j.value("note", "");
  e.t_applied = j.value("t_applied", -1.0);
  e.t_reverted = j.value("t_reverted", -1.0);
  e.cluster = j.value("cluster", "");
  e.context = j.value("context", "");
}

Journal::Journal(kube::Client client, std::string state_namespace, std::string run_id, json meta)
    : client_(std::move(client)),
      ns_(std::move(state_namespace)),
      run_id_(std::move(run_id)),
      name_(shard_name(run_id_, 0)),
      meta_(std::move(meta)) {}

std::string Journal::shard_name(const std::string& run_id, size_t shard) {
  std::string head = "faultline-journal-" + run_id;
  return shard == 0 ? head : head + "-" + std::to_string(shard);
}

namespace {

// An entry as stored: the note cut to kMaxNoteBytes (on a UTF-8 boundary) so
// that kEntriesPerShard entries always fit a ConfigMap; memory (and so the
// report) keeps it whole.
json stored(const JournalEntry& e) {
  json j = e;
  if (e.note.size() > kMaxNoteBytes) {
    size_t cut = kMaxNoteBytes;
    while (cut > 0 && (static_cast<unsigned char>(e.note[cut]) & 0xC0) == 0x80) --cut;
    j["note"] = e.note.substr(0, cut) + "...";
  }
  return j;
}

std::string entries_text(const std::vector<JournalEntry>& all, size_t from, size_t to) {
  json entries = json::array();
  for (size_t i = from; i < to && i < all.size(); ++i) entries.push_back(stored(all[i]));
  return entries.dump();
}

}  // namespace

std::string Journal::shard_entries(size_t shard) const {
  return entries_text(entries_, shard * kEntriesPerShard, (shard + 1) * kEntriesPerShard);
}

json Journal::body(size_t shard, const std::string& entries) const {
  json data = {{"run", run_id_}, {"shard", std::to_string(shard)}, {"entries", entries}};
  if (shard == 0) data["meta"] = meta_.dump();
  return json{{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata",
               {{"name", shard_name(run_id_, shard)},
                {"namespace", ns_},
                {"labels", {{kManagedByLabel, "faultline"}, {kJournalLabel, "true"}}},
                {"annotations", {{kRunAnnotation, run_id_}}}}},
              {"data", std::move(data)}};
}

void ensure_namespace(kube::Client& client, const std::string& ns) {
  try {
    client.get(res::kNamespaces, "", ns);
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ApiError::Kind::NotFound) throw;
    log::info("creating namespace " + ns + " for faultline's journal and lock");
    try {
      client.create(res::kNamespaces, "",
                    {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
    } catch (const kube::ApiError& c) {
      if (c.kind() != kube::ApiError::Kind::Conflict) throw;
    }
  }
}

void Journal::open() {
  std::lock_guard lock(mutex_);
  write_locked();
}

void Journal::write_locked() {
  size_t shards = std::max<size_t>(1, (entries_.size() + kEntriesPerShard - 1) / kEntriesPerShard);
  // A shard left behind by a failed intend() is rewritten (empty), so the
  // server never keeps entries that memory dropped.
  shards = std::max(shards, exists_.size());
  exists_.resize(shards, false);
  written_.resize(shards);
  for (size_t k = 0; k < shards; ++k) {
    auto text = shard_entries(k);
    if (exists_[k] && written_[k] == text) continue;  // unchanged since written
    write_shard(k, std::move(text));
  }
}

void Journal::write_shard(size_t shard, const std::string& entries) {
  // Unknown until this write succeeds: a failed (or timed-out, maybe
  // applied) write is rewritten by the next one.
  written_[shard].clear();
  const auto name = shard_name(run_id_, shard);
  // Replace is a PUT of the whole shard: the journal has a single writer (us,
  // under the lock), so last-writer-wins is exactly right.
  try {
    if (exists_[shard])
      client_.replace(res::kConfigMaps, ns_, name, body(shard, entries));
    else
      client_.create(res::kConfigMaps, ns_, body(shard, entries));
  } catch (const kube::ApiError& e) {
    // An earlier create whose reply was lost did happen (409), or the shard
    // was deleted under us (404): the other verb.
    if (exists_[shard] && e.kind() == kube::ApiError::Kind::NotFound)
      client_.create(res::kConfigMaps, ns_, body(shard, entries));
    else if (!exists_[shard] && e.kind() == kube::ApiError::Kind::Conflict)
      client_.replace(res::kConfigMaps, ns_, name, body(shard, entries));
    else
      throw;
  }
  exists_[shard] = true;
  written_[shard] = entries;
}

std::shared_lock<std::shared_timed_mutex> Journal::mutating() {
  std::shared_lock lock(in_flight_);
  if (closed_) throw MutationsClosed("no new fault: the run is rolling back");
  if (gate_) gate_();
  return lock;
}

bool Journal::close_mutations(std::chrono::milliseconds wait) {
  closed_ = true;
  std::unique_lock lock(in_flight_, std::defer_lock);
  return lock.try_lock_for(wait);
}

std::vector<int> Journal::intend(std::vector<JournalEntry> entries) {
  if (closed_) throw MutationsClosed("no new fault: the run is rolling back");
  if (gate_) gate_();
  std::lock_guard lock(mutex_);
  const size_t before = entries_.size();
  std::vector<int> ids;
  for (auto& e : entries) {
    e.id = static_cast<int>(entries_.size()) + 1;
    e.state = "intended";
    ids.push_back(e.id);
    entries_.push_back(std::move(e));
  }
  try {
    write_locked();
  } catch (...) {
    // Not journaled, so not made: forget them. The shards this write touched
    // are marked unknown and rewritten without them next time.
    entries_.resize(before);
    throw;
  }
  return ids;
}

void Journal::update(int id, const std::string& state, const std::string& note, double t) {
  std::lock_guard lock(mutex_);
  if (id < 1 || static_cast<size_t>(id) > entries_.size()) return;
  auto& e = entries_[static_cast<size_t>(id) - 1];
  e.state = state;
  if (!note.empty()) e.note = note;
  if (t >= 0 && state == "applied") e.t_applied = t;
  if (t >= 0 && (state == "reverted" || state == "not_reversible")) e.t_reverted = t;
}

void Journal::persist() {
  std::lock_guard lock(mutex_);
  write_locked();
}

void Journal::close() {
  std::lock_guard lock(mutex_);
  // Every shard ever attempted (a 404 is fine), the head last.
  for (size_t k = std::max<size_t>(exists_.size(), 1); k-- > 0;)
    remove(client_, ns_, shard_name(run_id_, k));
  exists_.clear();
  written_.clear();
}

std::vector<JournalEntry> Journal::entries() const {
  std::lock_guard lock(mutex_);
  return entries_;
}

std::vector<Journal::Stored> Journal::list(kube::Client& client, const std::string& ns) {
  kube::ListOptions options;
  options.label_selector = std::string(kJournalLabel) + "=true";
  json list;
  try {
    list = client.list(res::kConfigMaps, ns, options);
  } catch (const kube::ApiError& e) {
    if (e.kind() == kube::ApiError::Kind::NotFound) return {};  // no namespace, no journals
    throw;
  }
  std::map<std::string, Stored> runs;  // the shards of one run, merged
  for (const auto& cm : list["items"]) {
    std::string name = cm["metadata"].value("name", "");
    const json& data = cm.value("data", json::object());
    std::string run = data.value("run", "");
    Stored& s = runs[run.empty() ? "/" + name : run];  // no run: a journal of its own
    s.run_id = run;
    const size_t shard = s.shards.size();
    s.shards.push_back(name);
    if (data.value("shard", "0") == "0") {  // the head (journals before shards: the only one)
      s.name = name;
      s.meta = json::parse(data.value("meta", "{}"), nullptr, false);
    }
    json entries = json::parse(data.value("entries", "[]"), nullptr, false);
    if (entries.is_discarded() || !entries.is_array())
      throw std::runtime_error("journal " + ns + "/" + name +
                               " is corrupt (entries are not a JSON list)");
    for (const auto& e : entries) {
      s.entries.push_back(e.get<JournalEntry>());
      s.entry_shard.push_back(shard);
    }
  }
  std::vector<Stored> out;
  for (auto& [_, s] : runs) {
    if (s.name.empty()) s.name = s.shards.front();  // head lost: recover what is left
    if (s.meta.is_null() || s.meta.is_discarded()) s.meta = json::object();
    std::vector<size_t> order(s.entries.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return s.entries[a].id < s.entries[b].id; });
    Stored sorted = s;
    for (size_t i = 0; i < order.size(); ++i) {
      sorted.entries[i] = s.entries[order[i]];
      sorted.entry_shard[i] = s.entry_shard[order[i]];
    }
    out.push_back(std::move(sorted));
  }
  return out;
}

void Journal::save(kube::Client& client, const std::string& ns, const Stored& s) {
  std::vector<json> per_shard(std::max<size_t>(s.shards.size(), 1), json::array());
  for (size_t i = 0; i < s.entries.size(); ++i) {
    size_t shard = i < s.entry_shard.size() ? s.entry_shard[i] : 0;
    per_shard.at(shard).push_back(stored(s.entries[i]));
  }
  for (size_t k = 0; k < per_shard.size(); ++k)
    client.patch(res::kConfigMaps, ns, k < s.shards.size() ? s.shards[k] : s.name,
                 {{"data", {{"entries", per_shard[k].dump()}}}});
}

void Journal::remove(kube::Client& client, const std::string& ns, const Stored& s) {
  for (const auto& shard : s.shards)
    if (shard != s.name) remove(client, ns, shard);
  remove(client, ns, s.name);
}

void Journal::remove(kube::Client& client, const std::string& ns, const std::string& name) {
  try {
    client.remove(res::kConfigMaps, ns, name);
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ApiError::Kind::NotFound) throw;
  }
}

}  // namespace faultline::chaos
