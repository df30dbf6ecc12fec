#include "runner/observe/zone_counts.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>

namespace faultline::observe {
namespace {

// The names by id. A deque: push_back never moves the names already handed
// out by reference. Guarded by a mutex because watch threads add zones while
// the script thread reads samples.
struct ZoneTable {
  std::mutex mu;
  std::deque<std::string> names;
  std::unordered_map<std::string, uint32_t> ids;
};

ZoneTable& table() {
  static ZoneTable* t = new ZoneTable;  // never destroyed: samples may outlive statics
  return *t;
}

// True when zone a sorts before zone b (by name, as std::map<std::string> did).
bool before(uint32_t a, uint32_t b) { return a != b && zone_name(a) < zone_name(b); }

}  // namespace

uint32_t zone_id(std::string_view zone) {
  auto& t = table();
  std::lock_guard lock(t.mu);
  auto it = t.ids.find(std::string(zone));
  if (it != t.ids.end()) return it->second;
  auto id = static_cast<uint32_t>(t.names.size());
  t.names.emplace_back(zone);
  t.ids.emplace(t.names.back(), id);
  return id;
}

// The id of a zone already seen; none otherwise (a lookup adds nothing).
static std::optional<uint32_t> known_zone_id(std::string_view zone) {
  auto& t = table();
  std::lock_guard lock(t.mu);
  auto it = t.ids.find(std::string(zone));
  if (it == t.ids.end()) return std::nullopt;
  return it->second;
}

const std::string& zone_name(uint32_t id) {
  auto& t = table();
  std::lock_guard lock(t.mu);
  return t.names.at(id);
}

ZoneCounts::ZoneCounts(std::initializer_list<std::pair<std::string, int>> init) {
  for (const auto& [zone, n] : init) (*this)[zone] = n;
}

ZoneCounts::ZoneCounts(const std::map<std::string, int>& init) {
  entries_.reserve(init.size());
  for (const auto& [zone, n] : init) entries_.push_back({zone_id(zone), n});  // already sorted
}

int& ZoneCounts::operator[](std::string_view zone) {
  uint32_t id = zone_id(zone);
  auto it =
      std::lower_bound(entries_.begin(), entries_.end(), id,
                       [](const detail::ZoneCount& e, uint32_t z) { return before(e.zone, z); });
  if (it == entries_.end() || it->zone != id) it = entries_.insert(it, {id, 0});
  return it->n;
}

int ZoneCounts::at(std::string_view zone) const {
  if (auto id = known_zone_id(zone))
    for (const auto& e : entries_)
      if (e.zone == *id) return e.n;
  throw std::out_of_range("no count for zone " + std::string(zone));
}

size_t ZoneCounts::count(std::string_view zone) const {
  auto id = known_zone_id(zone);
  return id && std::any_of(entries_.begin(), entries_.end(),
                           [&](const detail::ZoneCount& e) { return e.zone == *id; });
}

std::map<std::string, int> ZoneCounts::to_map() const {
  std::map<std::string, int> out;
  for (const auto& [zone, n] : *this) out.emplace(zone, n);
  return out;
}

ZoneSet::ZoneSet(std::initializer_list<std::string> init) {
  for (const auto& zone : init) insert(zone);
}

ZoneSet::ZoneSet(const std::set<std::string>& init) {
  ids_.reserve(init.size());
  for (const auto& zone : init) ids_.push_back(zone_id(zone));  // already sorted
}

void ZoneSet::insert(std::string_view zone) {
  uint32_t id = zone_id(zone);
  auto it = std::lower_bound(ids_.begin(), ids_.end(), id, before);
  if (it == ids_.end() || *it != id) ids_.insert(it, id);
}

size_t ZoneSet::count(std::string_view zone) const {
  auto id = known_zone_id(zone);
  return id ? std::count(ids_.begin(), ids_.end(), *id) : 0;
}

std::set<std::string> ZoneSet::to_set() const { return {begin(), end()}; }

}  // namespace faultline::observe
