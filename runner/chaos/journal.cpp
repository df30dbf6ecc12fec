#include "runner/chaos/journal.h"

#include <algorithm>

#include "runner/common/log.h"

namespace faultline::chaos {

namespace res = kube::resources;

void to_json(json& j, const JournalEntry& e) {
  j = json{{"id", e.id},       {"action", e.action}, {"kind", e.kind},   {"namespace", e.ns},
           {"name", e.name},   {"uid", e.uid},       {"state", e.state}, {"note", e.note},
           {"t_applied", e.t_applied}, {"t_reverted", e.t_reverted}};
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
}

Journal::Journal(kube::Client client, std::string state_namespace, std::string run_id, json meta)
    : client_(std::move(client)),
      ns_(std::move(state_namespace)),
      run_id_(std::move(run_id)),
      name_("faultline-journal-" + run_id_),
      meta_(std::move(meta)) {}

// A ConfigMap holds at most 1 MiB. Past kMaxJournalBytes the stored copy
// keeps every node entry (what recovery undoes) and only counts the pod
// entries (evictions and deletions cannot be undone; the run's report lists
// them from memory): a big drain must not make every later write fail.
constexpr size_t kMaxJournalBytes = 512u << 10;

json Journal::body() const {
  json entries = json::array();
  for (const auto& e : entries_) entries.push_back(e);
  size_t omitted = 0;
  if (entries.dump().size() > kMaxJournalBytes) {
    entries = json::array();
    for (const auto& e : entries_) {
      if (e.kind == "pod") ++omitted;
      else entries.push_back(e);
    }
  }
  return json{{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata",
               {{"name", name_},
                {"namespace", ns_},
                {"labels", {{kManagedByLabel, "faultline"}, {kJournalLabel, "true"}}},
                {"annotations", {{kRunAnnotation, run_id_}}}}},
              {"data",
               {{"run", run_id_},
                {"meta", meta_.dump()},
                {"entries", entries.dump()},
                {"pod_entries_omitted", std::to_string(omitted)}}}};
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
  // Replace is a PUT of the whole record: the journal has a single writer (us,
  // under the lock), so last-writer-wins is exactly right.
  if (!created_) {
    client_.create(res::kConfigMaps, ns_, body());
    created_ = true;
  } else {
    client_.replace(res::kConfigMaps, ns_, name_, body());
  }
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
  std::vector<int> ids;
  for (auto& e : entries) {
    e.id = static_cast<int>(entries_.size()) + 1;
    e.state = "intended";
    ids.push_back(e.id);
    entries_.push_back(std::move(e));
  }
  write_locked();
  return ids;
}

void Journal::update(int id, const std::string& state, const std::string& note, double t) {
  std::lock_guard lock(mutex_);
  for (auto& e : entries_) {
    if (e.id != id) continue;
    e.state = state;
    if (!note.empty()) e.note = note;
    if (t >= 0 && state == "applied") e.t_applied = t;
    if (t >= 0 && (state == "reverted" || state == "not_reversible")) e.t_reverted = t;
  }
}

void Journal::persist() {
  std::lock_guard lock(mutex_);
  write_locked();
}

void Journal::close() {
  std::lock_guard lock(mutex_);
  remove(client_, ns_, name_);
  created_ = false;
}

std::vector<JournalEntry> Journal::entries() const {
  std::lock_guard lock(mutex_);
  return entries_;
}

std::vector<Journal::Stored> Journal::list(kube::Client& client, const std::string& ns) {
  std::vector<Stored> out;
  kube::ListOptions options;
  options.label_selector = std::string(kJournalLabel) + "=true";
  json list;
  try {
    list = client.list(res::kConfigMaps, ns, options);
  } catch (const kube::ApiError& e) {
    if (e.kind() == kube::ApiError::Kind::NotFound) return out;  // no namespace, no journals
    throw;
  }
  for (const auto& cm : list["items"]) {
    Stored s;
    s.name = cm["metadata"].value("name", "");
    s.resource_version = cm["metadata"].value("resourceVersion", "");
    const json& data = cm.value("data", json::object());
    s.run_id = data.value("run", "");
    s.meta = json::parse(data.value("meta", "{}"), nullptr, false);
    json entries = json::parse(data.value("entries", "[]"), nullptr, false);
    if (entries.is_discarded() || !entries.is_array())
      throw std::runtime_error("journal " + ns + "/" + s.name + " is corrupt (entries are not a JSON list)");
    for (const auto& e : entries) s.entries.push_back(e.get<JournalEntry>());
    out.push_back(std::move(s));
  }
  return out;
}

void Journal::save(kube::Client& client, const std::string& ns, const Stored& s) {
  json entries = json::array();
  for (const auto& e : s.entries) entries.push_back(e);
  client.patch(res::kConfigMaps, ns, s.name, {{"data", {{"entries", entries.dump()}}}});
}

void Journal::remove(kube::Client& client, const std::string& ns, const std::string& name) {
  try {
    client.remove(res::kConfigMaps, ns, name);
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ApiError::Kind::NotFound) throw;
  }
}

}  // namespace faultline::chaos
