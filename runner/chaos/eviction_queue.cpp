#include "runner/chaos/eviction_queue.h"

#include <algorithm>

#include "runner/chaos/selector.h"
#include "runner/common/error.h"

namespace faultline::chaos {

using json = nlohmann::json;

namespace {

std::string key_of(const json& pdb) {
  const json& m = pdb.value("metadata", json::object());
  return m.value("namespace", "") + "/" + m.value("name", "");
}

}  // namespace

EvictionQueue::EvictionQueue(std::vector<Item> items, Timing timing) : timing_(timing) {
  entries_.reserve(items.size());
  for (auto& item : items)
    entries_.push_back(Entry{std::move(item), State::Waiting, {}, {}, {}, 0});
  waiting_.reserve(entries_.size());
  for (size_t i = 0; i < entries_.size(); ++i) waiting_.push_back(i);
}

void EvictionQueue::changed() {
  ++changes_;
  cv_.notify_all();
}

int EvictionQueue::Budget::left(Clock::time_point now) const {
  if (closed && now < closed_until) return 0;
  return allowed - in_flight - static_cast<int>(unconfirmed.size());
}

void EvictionQueue::set_pdb(const json& pdb) {
  std::lock_guard lock(mu_);
  const json& m = pdb.value("metadata", json::object());
  const json& spec = pdb.value("spec", json::object());
  const json& status = pdb.value("status", json::object());
  Budget& b = budgets_[key_of(pdb)];
  std::string selector;
  bool has_selector = spec.contains("selector") && spec["selector"].is_object();
  if (has_selector) selector = selector_to_string(spec["selector"]);
  if (selector != b.selector || has_selector != b.has_selector || b.ns.empty()) ++generation_;
  b.ns = m.value("namespace", "");
  b.selector = selector;
  b.has_selector = has_selector;
  std::string rv = m.value("resourceVersion", "");
  if (rv != b.resource_version) {
    b.resource_version = rv;
    b.closed = false;
  }
  b.disrupted.clear();
  auto dp = status.find("disruptedPods");
  if (dp != status.end() && dp->is_object())
    for (auto it = dp->begin(); it != dp->end(); ++it) {
      b.disrupted.insert(it.key());
      b.unconfirmed.erase(it.key());
    }
  // The API server refuses every eviction while the controller has not
  // caught up with a spec change; so do we.
  bool stale = status.value("observedGeneration", int64_t{0}) < m.value("generation", int64_t{0});
  b.allowed = stale ? 0 : static_cast<int>(status.value("disruptionsAllowed", int64_t{0}));
  changed();
}

void EvictionQueue::erase_pdb(const json& pdb) {
  std::lock_guard lock(mu_);
  if (budgets_.erase(key_of(pdb))) ++generation_;
  changed();
}

void EvictionQueue::synced() {
  std::lock_guard lock(mu_);
  synced_ = true;
  changed();
}

void EvictionQueue::blind() {
  std::lock_guard lock(mu_);
  blind_ = true;
  budgets_.clear();
  ++generation_;
  changed();
}

const std::vector<std::string>& EvictionQueue::covering(Entry& e) const {
  if (e.covering_generation == generation_ + 1) return e.covering;
  e.covering.clear();
  for (const auto& [key, b] : budgets_) {
    if (b.ns != e.item.ns || !b.has_selector) continue;  // a null selector selects nothing
    bool match = true;  // a selector we cannot read covers the pod: never ignore a budget
    try {
      match = selector_matches(b.selector, e.item.labels ? *e.item.labels : json::object());
    } catch (const InputError&) {
    }
    if (match) e.covering.push_back(key);
  }
  e.covering_generation = generation_ + 1;
  return e.covering;
}

std::optional<size_t> EvictionQueue::next(Clock::time_point until, std::stop_token stop) {
  std::unique_lock lock(mu_);
  while (!stop.stop_requested()) {
    auto now = Clock::now();
    if (waiting_.empty() && in_flight_ == 0) return std::nullopt;
    // The deadline holds for pods the budget would let go too: a slow
    // control plane (3.4 evictions/s at 10k pods) kept a 300 s drain
    // evicting for 700 s more when this came after the hand-out.
    if (now >= until) return std::nullopt;
    auto wake = until;
    for (auto& [key, b] : budgets_)
      for (auto it = b.unconfirmed.begin(); it != b.unconfirmed.end();) {
        auto expires = it->second + timing_.unconfirmed_at_most;
        if (expires <= now) {
          it = b.unconfirmed.erase(it);
        } else {
          wake = std::min(wake, expires);
          ++it;
        }
      }
    if (synced_ || blind_) {
      for (size_t w = 0; w < waiting_.size(); ++w) {
        Entry& e = entries_[waiting_[w]];
        if (now < e.not_before) {
          wake = std::min(wake, e.not_before);
          continue;
        }
        bool open = true;
        for (const auto& k : covering(e)) {
          const Budget& b = budgets_.at(k);
          if (b.left(now) > 0) continue;
          open = false;
          if (b.closed && b.closed_until > now) wake = std::min(wake, b.closed_until);
        }
        if (!open) continue;
        size_t i = waiting_[w];
        waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(w));
        e.taken = covering(e);
        for (const auto& k : e.taken) ++budgets_.at(k).in_flight;
        e.state = State::InFlight;
        ++in_flight_;
        return i;
      }
    }
    // Woken by any change (a predicate that is never true would only wake
    // at `wake`: condition_variable_any's stop-token wait loops on it).
    auto seen = changes_;
    cv_.wait_until(lock, stop, wake, [&] { return changes_ != seen; });
  }
  return std::nullopt;
}

void EvictionQueue::give_back(Entry& e, bool accepted) {
  auto now = Clock::now();
  for (const auto& k : e.taken) {
    auto it = budgets_.find(k);
    if (it == budgets_.end()) continue;
    --it->second.in_flight;
    if (accepted && !it->second.disrupted.count(e.item.name))
      it->second.unconfirmed[e.item.name] = now;
  }
  e.taken.clear();
  if (e.state == State::InFlight) --in_flight_;
  changed();
}

void EvictionQueue::evicted(size_t i) {
  std::lock_guard lock(mu_);
  give_back(entries_[i], true);
  entries_[i].state = State::Done;
}

void EvictionQueue::refused(size_t i, std::optional<double> retry_after_seconds) {
  std::lock_guard lock(mu_);
  Entry& e = entries_[i];
  ++refusals_;
  auto now = Clock::now();
  if (blind_) {
    // The old way: the server's Retry-After, within reason.
    e.not_before = now + std::chrono::milliseconds(static_cast<int>(
                             1000 * std::clamp(retry_after_seconds.value_or(1.0), 0.2, 5.0)));
  } else if (e.taken.empty()) {
    // Under no PDB we know of: throttling, or a budget created since.
    e.not_before = now + std::max(timing_.uncovered_retry,
                                  std::chrono::milliseconds(static_cast<int>(
                                      1000 * std::min(retry_after_seconds.value_or(0.0), 5.0))));
  }
  for (const auto& k : e.taken) {
    auto it = budgets_.find(k);
    if (it == budgets_.end()) continue;
    it->second.closed = true;
    it->second.closed_until = now + timing_.closed_at_most;
  }
  give_back(e, false);
  e.state = State::Waiting;
  waiting_.push_back(i);
}

void EvictionQueue::requeue(size_t i, std::chrono::milliseconds after) {
  entries_[i].not_before = Clock::now() + after;
  give_back(entries_[i], false);
  entries_[i].state = State::Waiting;
  waiting_.push_back(i);
}

void EvictionQueue::retry(size_t i) {
  std::lock_guard lock(mu_);
  requeue(i, timing_.conflict_retry);
}

void EvictionQueue::unanswered(size_t i) {
  std::lock_guard lock(mu_);
  requeue(i, timing_.unanswered_retry);
}

void EvictionQueue::drop(size_t i) {
  std::lock_guard lock(mu_);
  give_back(entries_[i], false);
  entries_[i].state = State::Done;
}

size_t EvictionQueue::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

int EvictionQueue::refusals() const {
  std::lock_guard lock(mu_);
  return refusals_;
}

}  // namespace faultline::chaos
