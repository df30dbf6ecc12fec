// Per-zone counts and zone sets as the timeline keeps them. A cluster has a
// handful of zones but a drill takes one sample per watch event (16,700 in a
// 10k-pod zone drain), and a std::map<std::string, int> per sample was most
// of the timeline's memory (issue 14: ~1 KB a sample). Here a sample holds
// 8 bytes per zone: the zone's id in a process-wide table of names, and its
// count. Iteration yields (const std::string& zone, int n) in zone-name order,
// as the std::map did, so `for (const auto& [zone, n] : counts)` reads the same.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "runner/observe/inline_vector.h"

namespace faultline::observe {

// The interned id of a zone name (added on first sight; never removed: a
// cluster's zones are few, so the table stays small) and back.
uint32_t zone_id(std::string_view zone);
const std::string& zone_name(uint32_t id);

namespace detail {
struct ZoneCount {
  uint32_t zone;  // zone_id()
  int n;
  bool operator==(const ZoneCount&) const = default;
};
static_assert(sizeof(ZoneCount) == 8);

inline std::pair<const std::string&, int> read(const ZoneCount& e) {
  return {zone_name(e.zone), e.n};
}
inline const std::string& read(const uint32_t& id) { return zone_name(id); }

// Walks the stored ids, yielding names (what both containers iterate over).
template <class Stored, class Value>
class ZoneIterator {
 public:
  using iterator_category = std::forward_iterator_tag;
  using value_type = std::remove_cvref_t<Value>;
  using difference_type = std::ptrdiff_t;
  using pointer = void;
  using reference = Value;

  ZoneIterator() = default;
  explicit ZoneIterator(const Stored* at) : at_(at) {}
  Value operator*() const { return read(*at_); }
  ZoneIterator& operator++() {
    ++at_;
    return *this;
  }
  ZoneIterator operator++(int) {
    auto copy = *this;
    ++at_;
    return copy;
  }
  bool operator==(const ZoneIterator& other) const { return at_ == other.at_; }

 private:
  const Stored* at_ = nullptr;
};
}  // namespace detail

class ZoneCounts {
 public:
  using value_type = std::pair<const std::string&, int>;

  ZoneCounts() = default;
  ZoneCounts(std::initializer_list<std::pair<std::string, int>> init);
  ZoneCounts(const std::map<std::string, int>& init);  // NOLINT: implicit, as a map reads

  // The count of zone, inserted as 0 when absent (as std::map::operator[]).
  int& operator[](std::string_view zone);
  // The count of zone; std::out_of_range when absent.
  int at(std::string_view zone) const;
  size_t count(std::string_view zone) const;
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

  using const_iterator = detail::ZoneIterator<detail::ZoneCount, value_type>;
  const_iterator begin() const { return const_iterator(entries_.data()); }
  const_iterator end() const { return const_iterator(entries_.data() + entries_.size()); }

  std::map<std::string, int> to_map() const;
  bool operator==(const ZoneCounts& other) const { return entries_ == other.entries_; }
  bool operator==(const std::map<std::string, int>& other) const { return to_map() == other; }

 private:
  InlineVector<detail::ZoneCount, 3> entries_;  // sorted by zone name; 3 zones inline
};

class ZoneSet {
 public:
  ZoneSet() = default;
  ZoneSet(std::initializer_list<std::string> init);
  ZoneSet(const std::set<std::string>& init);  // NOLINT: implicit, as a set reads

  void insert(std::string_view zone);
  size_t count(std::string_view zone) const;
  bool empty() const { return ids_.empty(); }
  size_t size() const { return ids_.size(); }

  using const_iterator = detail::ZoneIterator<uint32_t, const std::string&>;
  const_iterator begin() const { return const_iterator(ids_.data()); }
  const_iterator end() const { return const_iterator(ids_.data() + ids_.size()); }

  std::set<std::string> to_set() const;
  bool operator==(const ZoneSet& other) const { return ids_ == other.ids_; }
  bool operator==(const std::set<std::string>& other) const { return to_set() == other; }

 private:
  InlineVector<uint32_t, 4> ids_;  // sorted by zone name; 4 zones inline
};

}  // namespace faultline::observe
