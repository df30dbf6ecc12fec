#include "runner/slo/evaluate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <set>

#include "runner/common/duration.h"
#include "runner/observe/series.h"
#include "runner/observe/trackers.h"
#include "runner/observe/vantage.h"

namespace faultline::slo {
namespace {

using observe::EndpointsSample;
using observe::PodsSample;
using observe::RequestSample;
using observe::TimelineSnapshot;
using observe::ValueSample;
using reports::SloRecord;
using reports::Span;

constexpr double kEps = 1e-9;

template <typename S>
std::vector<S> events_in(const std::vector<S>& v, double from, double to) {
  std::vector<S> out;
  for (const auto& s : v)
    if (s.t >= from && s.t <= to) out.push_back(s);
  return out;
}

// The state series over [from, to]: the state at `from` (the last sample at
// or before it, re-timed to `from`) and every change after.
template <typename S>
std::vector<S> states_in(const std::vector<S>& v, double from, double to) {
  std::vector<S> out;
  const S* at_from = nullptr;
  for (const auto& s : v) {
    if (s.t <= from)
      at_from = &s;
    else if (s.t <= to)
      out.push_back(s);
  }
  if (at_from) {
    S first = *at_from;
    first.t = from;
    out.insert(out.begin(), first);
  }
  return out;
}

template <typename M>
const typename M::mapped_type* series_of(const M& m, const std::string& probe) {
  auto it = m.find(probe);
  return it == m.end() ? nullptr : &it->second;
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string ms_text(double ms) {
  char buf[32];
  if (ms < 10)
    std::snprintf(buf, sizeof buf, "%.2fms", ms);
  else if (ms < 1000)
    std::snprintf(buf, sizeof buf, "%.0fms", ms);
  else
    return seconds_text(ms / 1000);
  return buf;
}

std::string t_text(double t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "t=%.1fs", t);
  return buf;
}

SloRecord base_record(const SloSpec& spec) {
  SloRecord r;
  r.name = spec.name();
  r.kind = to_string(spec.kind);
  return r;
}

SloRecord no_samples(SloRecord r, const std::string& what, const EvalWindow& w) {
  r.passed = false;
  r.measured_text = "no samples";
  r.deciding_span = Span{w.from, w.to};
  r.detail = "no samples " + what + " in [" + t_text(w.from) + ", " + t_text(w.to) + "]";
  return r;
}

// "status 500 x3, timeout after 1s x2": the most frequent errors first.
std::string top_errors(const std::vector<RequestSample>& samples) {
  std::map<std::string, int> counts;
  for (const auto& s : samples)
    if (!s.ok) ++counts[s.error.empty() ? "failed" : s.error];
  std::vector<std::pair<int, std::string>> sorted;
  for (const auto& [e, n] : counts) sorted.emplace_back(-n, e);
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  for (size_t i = 0; i < sorted.size() && i < 3; ++i)
    out += (i ? ", " : "") + sorted[i].second + " x" + std::to_string(-sorted[i].first);
  if (sorted.size() > 3) out += ", ...";
  return out;
}

SloRecord availability(const SloSpec& spec, const TimelineSnapshot& snap, const EvalWindow& w) {
  SloRecord r = base_record(spec);
  r.bound_text = ">= " + percent_text(spec.min_ratio);
  if (spec.max_outage) r.bound_text += ", longest outage <= " + seconds_text(*spec.max_outage);
  const auto* all = series_of(snap.requests, spec.probe);
  auto samples = all ? events_in(*all, w.from, w.to) : std::vector<RequestSample>{};
  if (samples.empty()) return no_samples(r, "from probe " + spec.probe, w);

  int ok = 0;
  double longest = 0;
  Span longest_span{};
  std::optional<double> outage_start;
  // First and last failed request: behind a load-balancing Service only the
  // share of requests sent to a lost backend fails, so failures interleave
  // with successes and the longest run of failures says little; the span
  // from the first to the last failure is the window the service was hurt.
  std::optional<Span> failing;
  double largest_gap = 0, previous = samples.front().t;
  for (const auto& s : samples) {
    largest_gap = std::max(largest_gap, s.t - previous);
    previous = s.t;
    if (!s.ok) failing = Span{failing ? failing->from : s.t, s.t};
    if (s.ok) {
      ++ok;
      if (outage_start) {
        if (s.t - *outage_start > longest)
          longest = s.t - *outage_start, longest_span = {*outage_start, s.t};
        outage_start.reset();
      }
    } else if (!outage_start) {
      outage_start = s.t;
    }
  }
  if (outage_start && w.to - *outage_start > longest)
    longest = w.to - *outage_start, longest_span = {*outage_start, w.to};

  double ratio = double(ok) / double(samples.size());
  bool ratio_ok = ratio + kEps >= spec.min_ratio;
  bool outage_ok = !spec.max_outage || longest <= *spec.max_outage + kEps;
  r.measured = ratio;
  r.measured_text = percent_text(ratio);
  if (spec.max_outage) r.measured_text += ", longest outage " + seconds_text(longest);
  r.passed = ratio_ok && outage_ok;
  r.deciding_span = !outage_ok ? longest_span : Span{w.from, w.to};
  r.detail = std::to_string(ok) + " of " + std::to_string(samples.size()) + " requests succeeded";
  if (longest > 0)
    r.detail += "; longest outage " + seconds_text(longest) + " from " + t_text(longest_span.from);
  if (failing)
    r.detail += "; " + std::to_string(samples.size() - ok) + " failed between " +
                t_text(failing->from) + " and " + t_text(failing->to) + " (" +
                seconds_text(failing->to - failing->from) + ")";
  if (ok < int(samples.size())) r.detail += "; errors: " + top_errors(samples);
  if (largest_gap > 2.0) r.detail += "; largest gap between samples " + seconds_text(largest_gap);
  return r;
}

SloRecord latency(const SloSpec& spec, const TimelineSnapshot& snap, const EvalWindow& w) {
  SloRecord r = base_record(spec);
  for (const auto& [p, bound] : spec.percentiles)
    r.bound_text += (r.bound_text.empty() ? "" : ", ") + std::string("p") + std::to_string(p) +
                    " <= " + ms_text(bound * 1000);
  const auto* all = series_of(snap.requests, spec.probe);
  std::vector<double> ms;
  if (all)
    for (const auto& s : events_in(*all, w.from, w.to))
      if (s.ok || s.status != 0 || s.error.rfind("timeout", 0) == 0) ms.push_back(s.latency_ms);
  if (ms.empty()) return no_samples(r, "with a latency from probe " + spec.probe, w);

  r.passed = true;
  r.deciding_span = Span{w.from, w.to};
  for (const auto& [p, bound] : spec.percentiles) {
    double v = observe::percentile(ms, p);
    bool ok = v <= bound * 1000 + kEps;
    r.measured_text += (r.measured_text.empty() ? "" : ", ") + std::string("p") +
                       std::to_string(p) + " " + ms_text(v);
    // The figure that decided: the first percentile over its bound, else the last.
    if (r.passed) r.measured = v;
    if (!ok && r.passed) r.detail = "p" + std::to_string(p) + " is over its bound";
    r.passed = r.passed && ok;
  }
  r.detail += (r.detail.empty() ? "" : "; ") + std::to_string(ms.size()) + " requests";
  return r;
}

SloRecord ready_endpoints(const SloSpec& spec, const TimelineSnapshot& snap, const EvalWindow& w) {
  SloRecord r = base_record(spec);
  r.bound_text = ">= " + std::to_string(spec.min_ready) + " ready";
  if (spec.per_zone_min)
    r.bound_text += ", >= " + std::to_string(*spec.per_zone_min) + " per surviving zone";
  const auto* all = series_of(snap.endpoints, spec.probe);
  auto states = all ? states_in(*all, w.from, w.to) : std::vector<EndpointsSample>{};
  if (states.empty()) return no_samples(r, "from endpoints probe " + spec.probe, w);

  std::set<std::string> faulted(w.faulted_zones.begin(), w.faulted_zones.end());
  int min_total = states.front().ready_total;
  std::map<std::string, int> zone_min;
  std::optional<Span> violation;
  std::string why;
  for (size_t i = 0; i < states.size(); ++i) {
    const auto& s = states[i];
    min_total = std::min(min_total, s.ready_total);
    std::string bad;
    if (s.ready_total < spec.min_ready) bad = std::to_string(s.ready_total) + " ready in total";
    for (const auto& [zone, n] : s.ready_by_zone) {
      if (faulted.count(zone)) continue;
      auto [it, fresh] = zone_min.emplace(zone, n);
      if (!fresh) it->second = std::min(it->second, n);
      if (spec.per_zone_min && n < *spec.per_zone_min && bad.empty())
        bad = std::to_string(n) + " ready in zone " + zone;
    }
    if (!bad.empty() && !violation) {
      // The span lasts until the next state that is fine again.
      double end = w.to;
      for (size_t j = i + 1; j < states.size(); ++j) {
        const auto& n = states[j];
        bool fine = n.ready_total >= spec.min_ready;
        for (const auto& [zone, c] : n.ready_by_zone)
          if (!faulted.count(zone) && spec.per_zone_min && c < *spec.per_zone_min) fine = false;
        if (fine) {
          end = n.t;
          break;
        }
      }
      violation = Span{s.t, end};
      why = bad + " from " + t_text(s.t) + " to " + t_text(end);
    }
  }
  r.measured = min_total;
  r.measured_text = "min " + std::to_string(min_total);
  if (spec.per_zone_min && !zone_min.empty()) {
    auto lowest =
        std::min_element(zone_min.begin(), zone_min.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
    r.measured_text += " (" + lowest->first + " " + std::to_string(lowest->second) + ")";
  }
  r.passed = !violation;
  r.deciding_span = violation ? *violation : Span{w.from, w.to};
  r.detail =
      violation ? why : "never below the bound over " + std::to_string(states.size()) + " states";
  if (states.front().t > w.from + kEps)
    r.detail += "; first observed at " + t_text(states.front().t);
  return r;
}

struct PlacementState {
  int ready_off = 0;   // Ready pods not on a faulted zone
  int on_faulted = 0;  // pods still on a faulted zone
  bool replaced(int desired) const {
    return desired > 0 && ready_off >= desired && on_faulted == 0;
  }
};

PlacementState placement(const PodsSample& s, const std::set<std::string>& faulted) {
  PlacementState p;
  for (const auto& [zone, n] : s.ready_by_zone)
    if (!faulted.count(zone)) p.ready_off += n;
  for (const auto& [zone, n] : s.pods_by_zone)
    if (faulted.count(zone)) p.on_faulted += n;
  return p;
}

SloRecord replacement(const SloSpec& spec, const TimelineSnapshot& snap, const EvalWindow& w) {
  SloRecord r = base_record(spec);
  r.bound_text = "<= " + seconds_text(spec.within);
  if (spec.max_skew) r.bound_text += ", skew <= " + std::to_string(*spec.max_skew);
  if (!w.fault_start) {
    r.measured_text = "no fault";
    r.detail = "no fault was injected, so there was nothing to replace";
    return r;
  }
  const double start = *w.fault_start;
  const auto* all = series_of(snap.pods, spec.probe);
  auto states = all ? states_in(*all, start, w.to) : std::vector<PodsSample>{};
  EvalWindow from_fault = w;
  from_fault.from = start;
  if (states.empty()) return no_samples(r, "from pods probe " + spec.probe, from_fault);

  std::set<std::string> faulted(w.faulted_zones.begin(), w.faulted_zones.end());
  const PodsSample& last = states.back();
  auto end_state = placement(last, faulted);
  // Start of the final stretch of "replaced" (a plain flag + value: GCC 12
  // -O2 warns falsely about std::optional<double> here).
  bool recovered = false;
  double recovered_t = 0;
  for (const auto& s : states) {
    if (placement(s, faulted).replaced(s.desired)) {
      if (!recovered) recovered = true, recovered_t = s.t;
    } else {
      recovered = false;
    }
  }

  // Spread at the end across the zones that survived (and have a name).
  std::optional<int> skew;
  std::string spread;
  int lo = 0, hi = 0;
  // Only the zones the workload can use count, as the scheduler's topology
  // spread counts them (nodeAffinityPolicy / nodeTaintsPolicy).
  std::string not_eligible;
  for (const auto& [zone, n] : last.ready_by_zone) {
    if (faulted.count(zone) || zone == observe::kUnknownZone) continue;
    if (!last.eligible_zones.empty() && !last.eligible_zones.count(zone)) {
      not_eligible += (not_eligible.empty() ? "" : ", ") + zone;
      continue;
    }
    lo = skew ? std::min(lo, n) : n;
    hi = skew ? std::max(hi, n) : n;
    skew = hi - lo;
    spread += (spread.empty() ? "" : ", ") + zone + " " + std::to_string(n);
  }
  bool skew_ok = !spec.max_skew || (skew && *skew <= *spec.max_skew);

  std::string zones_text;
  for (const auto& z : w.faulted_zones) zones_text += (zones_text.empty() ? "" : ", ") + z;
  if (!recovered) {
    r.passed = false;
    r.measured_text = "not replaced";
    r.deciding_span = Span{start, w.to};
    r.detail = std::to_string(end_state.ready_off) + "/" + std::to_string(last.desired) + " Ready" +
               (zones_text.empty() ? "" : " off " + zones_text) + ", " +
               std::to_string(end_state.on_faulted) + " still on faulted zones at " + t_text(w.to);
    if (last.desired <= 0) r.detail = "desired replicas unknown (no pods seen)";
    return r;
  }
  const double recovered_at = recovered_t;
  double took = recovered_at - start;
  r.measured = took;
  r.measured_text = seconds_text(took);
  if (spec.max_skew)
    r.measured_text += ", skew " + (skew ? std::to_string(*skew) : std::string("?"));
  r.passed = took <= spec.within + kEps && skew_ok;
  r.deciding_span = Span{start, recovered_at};
  r.detail = std::to_string(last.desired) + "/" + std::to_string(last.desired) + " Ready" +
             (zones_text.empty() ? "" : " off " + zones_text) + " at " + t_text(recovered_at);
  const observe::ReadyEvent* latest = nullptr;
  for (const auto& e : snap.ready_events)
    if (e.t >= start && e.t <= recovered_at) latest = &e;
  if (latest) r.detail += " (last Ready: " + latest->pod + " in " + latest->zone + ")";
  if (spec.max_skew) {
    r.detail += "; spread at end: " + (spread.empty() ? std::string("no zones") : spread);
    if (!not_eligible.empty())
      r.detail += " (not counted, the workload cannot be placed there: " + not_eligible + ")";
    if (!skew_ok) r.detail += " (skew over the bound)";
  }
  return r;
}

// "shop/web-a at t=44.3s, ... (+7 more)": at most five named, in time order.
std::string evictions_text(const std::vector<const observe::EvictionEvent*>& v) {
  constexpr size_t kNamed = 5;
  std::string out;
  for (size_t i = 0; i < v.size() && i < kNamed; ++i)
    out += (i ? ", " : "") + v[i]->pod + " at " + t_text(v[i]->t);
  if (v.size() > kNamed) out += " (+" + std::to_string(v.size() - kNamed) + " more)";
  return out;
}

// Which of the run's evictions a pdb breach at `at` (in a disruption window
// from `from`) is evidence against, appended to the detail (issue 14). An
// eviction admitted when more had been admitted since the budget's latest
// status than that status allowed went past the budget: the API server
// judged it on a stale status. Evictions after the breach did not cause it.
// Without any, the lead-up (since Ready last met the floor) is named, and
// without those the loss was not ours. Only evictions in the budget's own
// namespace count: a zone drain also evicts other namespaces' pods, which
// this budget never allowed or refused.
std::string breach_evidence(const TimelineSnapshot& snap,
                            const std::vector<observe::PdbSample>& budget,
                            const std::vector<PodsSample>* pods,
                            const std::function<int(double)>& floor_at, double from, double at) {
  const std::string ns_prefix = budget.front().ns.empty() ? "" : budget.front().ns + "/";
  std::vector<const observe::EvictionEvent*> ev;
  for (const auto& e : snap.evictions)
    if (e.t <= at + kEps && e.pod.compare(0, ns_prefix.size(), ns_prefix) == 0) ev.push_back(&e);
  std::stable_sort(ev.begin(), ev.end(), [](auto* a, auto* b) { return a->t < b->t; });

  std::vector<const observe::EvictionEvent*> past;
  const observe::PdbSample* stale = nullptr;  // the status the first of them was admitted on
  for (size_t i = 0; i < ev.size(); ++i) {
    if (ev[i]->t < from - kEps) continue;
    const observe::PdbSample* status = nullptr;
    for (const auto& p : budget)
      if (p.t <= ev[i]->t && (!status || p.t >= status->t)) status = &p;
    if (!status) continue;  // no status before it to judge it against
    // It, and every eviction admitted after the status was sampled.
    auto here = ev.begin() + static_cast<std::ptrdiff_t>(i);
    auto first_after =
        std::upper_bound(ev.begin(), here, status->t, [](double t, auto* e) { return t < e->t; });
    int since = static_cast<int>(here - first_after) + 1;
    if (since > status->disruptions_allowed) {
      past.push_back(ev[i]);
      if (!stale) stale = status;
    }
  }
  if (stale) {
    return "; " + std::to_string(past.size()) + " eviction" + (past.size() > 1 ? "s" : "") +
           " admitted past the budget's status (disruptionsAllowed " +
           std::to_string(stale->disruptions_allowed) + " at " + t_text(stale->t) +
           "): " + evictions_text(past);
  }

  std::optional<double> healthy;  // the last time Ready met the floor before the breach
  if (pods)
    for (const auto& s : *pods)
      if (s.t < at && s.ready >= floor_at(s.t)) healthy = s.t;
  std::vector<const observe::EvictionEvent*> lead;
  for (auto* e : ev)
    if (!healthy || e->t >= *healthy) lead.push_back(e);
  if (!lead.empty()) return "; evictions before it: " + evictions_text(lead);
  if (ev.empty()) return "; no eviction by this run preceded it";
  return "; no eviction by this run since Ready last met the budget at " + t_text(*healthy);
}

SloRecord pdb(const SloSpec& spec, const TimelineSnapshot& snap, const EvalWindow& w) {
  SloRecord r = base_record(spec);
  std::set<std::string> names;
  for (const auto& p : snap.pdbs) names.insert(p.name);
  std::string name = spec.pdb;
  if (name.empty()) {
    if (names.size() != 1) {
      r.bound_text = ">= minAvailable";
      r.measured_text = names.empty() ? "no PDB" : "ambiguous";
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      r.detail = names.empty() ? "no PodDisruptionBudget was observed in the namespace"
                               : "several PodDisruptionBudgets (" + list + "); name one with name:";
      return r;
    }
    name = *names.begin();
  }
  std::vector<observe::PdbSample> budget;
  for (const auto& p : snap.pdbs)
    if (p.name == name) budget.push_back(p);
  r.name = "pdb(" + name + ")";
  if (budget.empty()) {
    r.bound_text = ">= minAvailable";
    r.measured_text = "no PDB";
    r.detail = "PodDisruptionBudget " + name + " was not observed";
    return r;
  }
  auto desired_healthy_at = [&](double t) {
    int d = budget.front().desired_healthy;
    for (const auto& p : budget)
      if (p.t <= t) d = p.desired_healthy;
    return d;
  };
  // The bound names the PDB's own rule: a maxUnavailable budget is not a minAvailable one.
  const std::string rule = budget.back().rule;
  r.bound_text = ">= " + std::to_string(desired_healthy_at(w.from)) + " Ready" +
                 (rule.empty() ? "" : " (" + rule + ")");

  const auto* pods = series_of(snap.pods, spec.probe);
  std::optional<int> min_ready;
  std::optional<Span> violation;
  double violation_window_from = 0;
  std::string why;
  int windows = 0;
  std::string violations;
  for (const auto& d : snap.disruptions) {
    double from = std::max(d.from, w.from), to = std::min(d.to.value_or(w.to), w.to);
    if (from > to) continue;
    if (!d.voluntary) {
      violations += (violations.empty() ? "" : ", ") + d.label;
      continue;
    }
    ++windows;
    auto states = pods ? states_in(*pods, from, to) : std::vector<PodsSample>{};
    for (const auto& s : states) {
      min_ready = min_ready ? std::min(*min_ready, s.ready) : s.ready;
      int floor = desired_healthy_at(s.t);
      if (s.ready < floor && !violation) {
        violation = Span{s.t, to};
        violation_window_from = from;
        why = std::to_string(s.ready) + " Ready < " + std::to_string(floor) + " during " + d.label +
              " at " + t_text(s.t);
      }
    }
  }
  if (windows == 0) {
    // Not a failure (README "SLOs"): a zone outage makes no voluntary
    // disruption, and a drill whose real SLOs all passed must not exit 1 for
    // a budget that was never asked. Reported as such, never as a pass.
    r.passed = true;
    r.measured_text = "not exercised";
    r.deciding_span = Span{w.from, w.to};
    r.detail =
        "not exercised: no voluntary disruption (drain, evict) happened in the window, so the "
        "budget was "
        "never put to the test (this does not fail the run)";
    if (!violations.empty()) r.detail += "; deliberate violations: " + violations;
    return r;
  }
  if (!min_ready) {
    EvalWindow during = w;
    return no_samples(r, "from pods probe " + spec.probe + " during the disruptions", during);
  }
  r.measured = *min_ready;
  r.measured_text = "min " + std::to_string(*min_ready) + " Ready";
  r.passed = !violation;
  r.deciding_span = violation ? *violation : Span{w.from, w.to};
  r.detail = violation ? why + breach_evidence(snap, budget, pods, desired_healthy_at,
                                               violation_window_from, violation->from)
                       : "held through " + std::to_string(windows) + " voluntary disruption" +
                             (windows > 1 ? "s" : "");
  if (!violations.empty())
    r.detail += "; deliberate violations (judged by availability): " + violations;
  return r;
}

SloRecord prometheus(const SloSpec& spec, const TimelineSnapshot& snap, const EvalWindow& w) {
  SloRecord r = base_record(spec);
  if (spec.max) r.bound_text = "<= " + number_text(*spec.max);
  if (spec.min)
    r.bound_text += (r.bound_text.empty() ? "" : ", ") + (">= " + number_text(*spec.min));
  r.bound_text += spec.at_end ? " at end" : " at every sample";
  const auto* all = series_of(snap.values, spec.probe);
  auto samples = all ? events_in(*all, w.from, w.to) : std::vector<ValueSample>{};
  std::vector<ValueSample> good;
  std::string last_error;
  for (const auto& s : samples) {
    if (s.ok && !std::isnan(s.value))
      good.push_back(s);
    else
      last_error = s.ok ? "NaN" : s.error;
  }
  if (good.empty()) {
    auto rec = no_samples(r, "with a value from probe " + spec.probe, w);
    if (!samples.empty())
      rec.detail +=
          " (" + std::to_string(samples.size()) + " queries failed; last: " + last_error + ")";
    return rec;
  }
  auto within = [&](double v) {
    return (!spec.max || v <= *spec.max + kEps) && (!spec.min || v >= *spec.min - kEps);
  };
  if (spec.at_end) good.erase(good.begin(), good.end() - 1);
  const ValueSample* bad = nullptr;
  double worst = good.front().value;
  for (const auto& s : good) {
    if (!bad && !within(s.value)) bad = &s;
    worst = spec.max ? std::max(worst, s.value) : std::min(worst, s.value);
  }
  r.measured = bad ? bad->value : worst;
  r.measured_text = number_text(*r.measured);
  r.passed = !bad;
  r.deciding_span = bad ? Span{bad->t, bad->t} : Span{w.from, w.to};
  r.detail = bad ? "value " + number_text(bad->value) + " at " + t_text(bad->t)
                 : std::to_string(good.size()) + " value" + (good.size() > 1 ? "s" : "") +
                       " within the bound";
  if (good.size() + 0 < samples.size() && !spec.at_end)
    r.detail += "; " + std::to_string(samples.size() - good.size()) + " queries without a value";
  return r;
}

}  // namespace

std::string percent_text(double ratio) {
  double p = std::floor(ratio * 1e5 + 1e-6) / 1e3;  // percent, 3 decimals, rounded down
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", p);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s + "%";
}

std::string seconds_text(double seconds) { return format_duration(Seconds(seconds)); }

EvalWindow EvalWindow::verify(const TimelineSnapshot& snapshot, double end) {
  EvalWindow w;
  w.from = snapshot.fault_start.value_or(0);
  w.to = end;
  w.fault_start = snapshot.fault_start;
  w.faulted_zones = snapshot.faulted_zones;
  return w;
}

EvalWindow EvalWindow::steady(double from, double to) {
  EvalWindow w;
  w.from = from;
  w.to = to;
  return w;
}

SloRecord evaluate_dr(const SloSpec& spec, const nlohmann::json& record) {
  SloRecord r = base_record(spec);
  if (spec.kind == SloKind::Rto || spec.kind == SloKind::Rpo) {
    const bool rto = spec.kind == SloKind::Rto;
    r.bound_text = "<= " + seconds_text(spec.within);
    r.description =
        rto ? "from the disaster until the restored service is Ready and verified"
            : "age of the newest restorable backup at the disaster (Velero's timestamps)";
    const char* field = rto ? "rto_s" : "rpo_s";
    if (!record.is_object() || !record.contains(field)) {
      r.measured_text = "not measured";
      r.detail = rto ? "no restore passed its checks after a disaster (dr.disaster, dr.restore)"
                     : "no completed backup before a disaster (dr.backup, dr.disaster)";
      if (rto && record.is_object() && !record.value("restores", nlohmann::json::array()).empty()) {
        const auto& last = record["restores"].back();
        r.detail = "restore " + last.value("name", std::string("?")) + " into " +
                   last.value("namespace", std::string("?")) + ": " +
                   last.value("reason", std::string("did not pass"));
      }
      return r;
    }
    const double v = record[field].get<double>();
    r.measured = v;
    r.measured_text = seconds_text(v);
    r.passed = v <= spec.within;
    return r;
  }
  // restore_complete
  r.bound_text = "Completed, 0 errors, <= " + std::to_string(spec.accept_warnings) + " warnings";
  r.description = "every restore of the drill finished cleanly in Velero";
  const nlohmann::json restores = record.is_object()
                                      ? record.value("restores", nlohmann::json::array())
                                      : nlohmann::json::array();
  if (restores.empty()) {
    r.measured_text = "no restore";
    r.detail = "the drill made no restore";
    return r;
  }
  r.passed = true;
  int worst_warnings = 0;
  for (const auto& restore : restores) {
    int counted = 0;
    for (const auto& w : restore.value("warning_messages", nlohmann::json::array())) {
      const std::string text = w.is_string() ? w.get<std::string>() : "";
      if (text.find("could not restore, ConfigMap:kube-root-ca.crt already exists") ==
          std::string::npos)
        ++counted;
    }
    if (!restore.contains("warning_messages") || restore["warning_messages"].empty())
      counted = restore.value("warnings", 0);
    worst_warnings = std::max(worst_warnings, counted);
    const bool ok = restore.value("phase", "") == "Completed" && restore.value("errors", 0) == 0 &&
                    counted <= spec.accept_warnings;
    if (!ok && r.passed) {
      r.passed = false;
      r.detail = "restore " + restore.value("name", std::string("?")) + ": " +
                 restore.value("phase", std::string("not finished")) + ", " +
                 std::to_string(restore.value("errors", 0)) + " error(s), " +
                 std::to_string(counted) + " warning(s)";
    }
  }
  r.measured = worst_warnings;
  r.measured_text = std::to_string(restores.size()) + " restore(s), worst " +
                    std::to_string(worst_warnings) + " warning(s)";
  return r;
}

namespace {

// A vantage in a zone the run faulted is expected to go dark (its node may
// lose power with the zone): its figure is shown, not judged, so the SLO
// speaks for the zones that should still be served.
SloRecord unless_vantage_faulted(SloRecord r, const SloSpec& spec, const EvalWindow& w) {
  auto vantage = observe::split_vantage_series(spec.probe);
  if (!vantage || std::find(w.faulted_zones.begin(), w.faulted_zones.end(), vantage->second) ==
                      w.faulted_zones.end())
    return r;
  r.detail = "not judged: the vantage's own zone " + vantage->second + " was faulted (" +
             (r.passed ? "within" : "outside") + " the bound); " + r.detail;
  r.passed = true;
  return r;
}

}  // namespace

SloRecord evaluate(const SloSpec& spec, const TimelineSnapshot& snap, const EvalWindow& w) {
  switch (spec.kind) {
    case SloKind::Availability:
      return unless_vantage_faulted(availability(spec, snap, w), spec, w);
    case SloKind::Latency:
      return unless_vantage_faulted(latency(spec, snap, w), spec, w);
    case SloKind::ReadyEndpoints:
      return ready_endpoints(spec, snap, w);
    case SloKind::Replacement:
      return replacement(spec, snap, w);
    case SloKind::Pdb:
      return pdb(spec, snap, w);
    case SloKind::Prometheus:
      return prometheus(spec, snap, w);
    case SloKind::Rto:
    case SloKind::Rpo:
    case SloKind::RestoreComplete:
      return evaluate_dr(spec, nlohmann::json());  // no drill record: not measured
  }
  return base_record(spec);
}

std::vector<SloRecord> evaluate_all(const std::vector<SloSpec>& specs, const TimelineSnapshot& snap,
                                    const EvalWindow& w) {
  std::vector<SloRecord> out;
  for (const auto& s : specs) out.push_back(evaluate(s, snap, w));
  return out;
}

SteadyState steady_state(const std::vector<SloSpec>& specs, const TimelineSnapshot& snap,
                         double from, double to) {
  SteadyState st;
  auto w = EvalWindow::steady(from, to);
  for (const auto& s : specs) {
    if (!s.steady_state()) continue;
    st.results.push_back(evaluate(s, snap, w));
    st.holds = st.holds && st.results.back().passed;
  }
  return st;
}

std::string SteadyState::failures() const {
  std::string out;
  for (const auto& r : results)
    if (!r.passed)
      out += (out.empty() ? "" : "; ") + r.name + " " + r.measured_text + " (" + r.bound_text + ")";
  return out;
}

}  // namespace faultline::slo
