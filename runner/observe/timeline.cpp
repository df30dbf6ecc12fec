#include "runner/observe/timeline.h"

#include <algorithm>
#include <utility>

namespace faultline::observe {
namespace {

// Samples arrive nearly in order; put a late one in its place from the back.
template <typename S>
void insert_sorted(std::vector<S>& v, S s) {
  if (v.empty() || v.back().t <= s.t) {
    v.push_back(std::move(s));
    return;
  }
  auto at = std::upper_bound(v.begin(), v.end(), s.t,
                             [](double t, const S& other) { return t < other.t; });
  v.insert(at, std::move(s));
}

template <typename S>
std::vector<S> events_since(const std::vector<S>& v, double since) {
  auto from =
      std::lower_bound(v.begin(), v.end(), since, [](const S& s, double t) { return s.t < t; });
  return std::vector<S>(from, v.end());
}

// The state at `since` is the last sample before it: keep that one too.
template <typename S>
std::vector<S> state_since(const std::vector<S>& v, double since) {
  auto from =
      std::lower_bound(v.begin(), v.end(), since, [](const S& s, double t) { return s.t < t; });
  if (from != v.begin()) --from;
  return std::vector<S>(from, v.end());
}

template <typename S>
void copy_series(const std::map<std::string, std::vector<S>>& in,
                 std::map<std::string, std::vector<S>>& out, double since, bool state) {
  for (const auto& [name, v] : in)
    out[name] = state ? state_since(v, since) : events_since(v, since);
}

}  // namespace

void Timeline::declare(const std::string& probe, SeriesKind kind) {
  std::lock_guard lock(mu_);
  switch (kind) {
    case SeriesKind::Requests:
      data_.requests[probe];
      break;
    case SeriesKind::Endpoints:
      data_.endpoints[probe];
      break;
    case SeriesKind::Pods:
      data_.pods[probe];
      break;
    case SeriesKind::Values:
      data_.values[probe];
      break;
  }
}

void Timeline::add(const std::string& probe, RequestSample s) {
  std::lock_guard lock(mu_);
  insert_sorted(data_.requests[probe], std::move(s));
}

void Timeline::add(const std::string& probe, EndpointsSample s) {
  std::lock_guard lock(mu_);
  insert_sorted(data_.endpoints[probe], std::move(s));
}

void Timeline::add(const std::string& probe, PodsSample s) {
  std::lock_guard lock(mu_);
  insert_sorted(data_.pods[probe], std::move(s));
}

void Timeline::add(const std::string& probe, ValueSample s) {
  std::lock_guard lock(mu_);
  insert_sorted(data_.values[probe], std::move(s));
}

void Timeline::add(ReadyEvent e) {
  std::lock_guard lock(mu_);
  insert_sorted(data_.ready_events, std::move(e));
}

void Timeline::add(PdbSample s) {
  std::lock_guard lock(mu_);
  insert_sorted(data_.pdbs, std::move(s));
}

void Timeline::add(ProbeFailure f) {
  std::lock_guard lock(mu_);
  data_.failures.push_back(std::move(f));
}

void Timeline::add(EvictionEvent e) {
  std::lock_guard lock(mu_);
  insert_sorted(data_.evictions, std::move(e));
}

int Timeline::begin_disruption(const std::string& label, bool voluntary, double t) {
  std::lock_guard lock(mu_);
  Disruption d;
  d.id = next_disruption_++;
  d.label = label;
  d.voluntary = voluntary;
  d.from = t;
  data_.disruptions.push_back(d);
  return d.id;
}

void Timeline::end_disruption(int id, double t) {
  std::lock_guard lock(mu_);
  for (auto& d : data_.disruptions)
    if (d.id == id && !d.to) d.to = t;
}

std::string Timeline::voluntary_disruption_at(double t) const {
  std::lock_guard lock(mu_);
  // Kept in the order they began: the last match is the one begun latest.
  for (auto d = data_.disruptions.rbegin(); d != data_.disruptions.rend(); ++d)
    if (d->voluntary && d->from <= t && (!d->to || *d->to >= t)) return d->label;
  return "";
}

void Timeline::set_faulted_zones(std::vector<std::string> zones) {
  std::lock_guard lock(mu_);
  std::sort(zones.begin(), zones.end());
  zones.erase(std::unique(zones.begin(), zones.end()), zones.end());
  data_.faulted_zones = std::move(zones);
}

void Timeline::mark_fault_start(double t) {
  std::lock_guard lock(mu_);
  if (!data_.fault_start) data_.fault_start = t;  // the first fault starts the fault window
}

void Timeline::mark_fault_end(double t) {
  std::lock_guard lock(mu_);
  data_.fault_end = t;
}

TimelineSnapshot Timeline::snapshot(double since, double taken) const {
  std::lock_guard lock(mu_);
  TimelineSnapshot s;
  s.taken = taken;
  copy_series(data_.requests, s.requests, since, false);
  copy_series(data_.values, s.values, since, false);
  copy_series(data_.endpoints, s.endpoints, since, true);
  copy_series(data_.pods, s.pods, since, true);
  s.ready_events = events_since(data_.ready_events, since);
  s.pdbs = data_.pdbs;  // few, and the state before `since` matters
  s.evictions = events_since(data_.evictions, since);
  s.disruptions = data_.disruptions;
  s.failures = data_.failures;
  s.faulted_zones = data_.faulted_zones;
  s.fault_start = data_.fault_start;
  s.fault_end = data_.fault_end;
  return s;
}

TimelineSnapshot Timeline::take(double taken) {
  std::lock_guard lock(mu_);
  TimelineSnapshot s = std::exchange(data_, {});
  s.taken = taken;
  return s;
}

Timeline::Ratio Timeline::request_ratio(const std::string& probe, double from, double to) const {
  std::lock_guard lock(mu_);
  Ratio r;
  auto it = data_.requests.find(probe);
  if (it == data_.requests.end()) return r;
  const auto& v = it->second;
  auto first = std::lower_bound(v.begin(), v.end(), from,
                                [](const RequestSample& s, double t) { return s.t < t; });
  for (auto i = first; i != v.end() && i->t <= to; ++i) {
    ++r.total;
    r.ok += i->ok ? 1 : 0;
  }
  return r;
}

std::optional<PodsSample> Timeline::last_pods() const {
  std::lock_guard lock(mu_);
  for (const auto& [name, v] : data_.pods)
    if (!v.empty()) return v.back();
  return std::nullopt;
}

std::optional<EndpointsSample> Timeline::last_endpoints() const {
  std::lock_guard lock(mu_);
  for (const auto& [name, v] : data_.endpoints)
    if (!v.empty()) return v.back();
  return std::nullopt;
}

std::vector<std::string> Timeline::unsampled_state_probes() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, v] : data_.pods)
    if (v.empty()) out.push_back(name);
  for (const auto& [name, v] : data_.endpoints)
    if (v.empty()) out.push_back(name);
  return out;
}

std::vector<std::string> Timeline::request_probes() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, v] : data_.requests) names.push_back(name);
  return names;
}

std::vector<std::string> Timeline::faulted_zones() const {
  std::lock_guard lock(mu_);
  return data_.faulted_zones;
}

std::vector<ProbeFailure> Timeline::failures() const {
  std::lock_guard lock(mu_);
  return data_.failures;
}

}  // namespace faultline::observe
