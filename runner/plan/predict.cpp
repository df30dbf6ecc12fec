#include "runner/plan/predict.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "runner/common/error.h"

namespace faultline::plan {

namespace {

int resolve(const json& v, int total) {
  if (v.is_number()) return v.get<int>();
  std::string s = v.get<std::string>();
  if (!s.empty() && s.back() == '%')
    return static_cast<int>(std::ceil(std::stod(s) / 100.0 * total - 1e-9));
  return std::stoi(s);
}

std::string num(double v) {
  std::ostringstream o;
  o << std::round(v * 10) / 10;
  return o.str();
}

bool has(const Scenario& sc, FaultKind k) {
  for (const auto& f : sc.faults)
    if (f.kind == k) return true;
  return false;
}

bool displaced_ref(const Outcome& o, const std::string& ref) {
  for (const auto& d : o.displaced)
    if (d.pod == ref) return true;
  return false;
}

std::string pending_summary(const Outcome& o) {
  std::map<std::string, int> reasons;
  for (const auto& d : o.displaced)
    if (d.target && d.node.empty())
      reasons[d.replaced ? d.pending_reason : "not re-created (no controller)"]++;
  std::string out;
  for (const auto& [r, n] : reasons)
    out += (out.empty() ? "" : "; ") + std::to_string(n) + " × " + r;
  return out;
}

void predict_slo(Prediction& p, const slo::SloSpec& spec) {
  SloPrediction s{spec.name(), "unknown", "", std::nullopt};
  using K = slo::SloKind;
  if (!p.guard_refusals.empty()) {
    s.why = "the run is refused by a guard before its faults: " + p.guard_refusals.front();
    p.slos.push_back(s);
    return;
  }
  switch (spec.kind) {
    case K::ReadyEndpoints: {
      s.predicted = p.min_ready_endpoints;
      bool ok = p.min_ready_endpoints >= spec.min_ready;
      s.why = "min " + std::to_string(p.min_ready_endpoints) +
              " ready (bound >= " + std::to_string(spec.min_ready) + ")";
      if (spec.per_zone_min)
        for (const auto& [zone, n] : p.min_ready_per_zone)
          if (n < *spec.per_zone_min) {
            ok = false;
            s.why += "; zone " + zone + " down to " + std::to_string(n) +
                     " (bound >= " + std::to_string(*spec.per_zone_min) + ")";
          }
      s.verdict = ok ? "pass" : "fail";
      break;
    }
    case K::Replacement: {
      if (p.outcome.displaced.empty()) {
        s.why = "the faults displace no pod";
        break;
      }
      if (p.outcome.target_pending > 0) {
        s.verdict = "fail";
        s.why = std::to_string(p.outcome.target_pending) +
                " target pod(s) stay Pending: " + pending_summary(p.outcome);
        break;
      }
      if (spec.max_skew && p.skew_after && *p.skew_after > *spec.max_skew) {
        s.verdict = "fail";
        s.why = "predicted skew " + std::to_string(*p.skew_after) + " > " +
                std::to_string(*spec.max_skew) +
                " (placement among feasible nodes by the documented tie-break)";
        break;
      }
      if (!p.replacement_lower_bound) {
        s.why =
            "every displaced pod fits, but the time to Ready is unknown (no Ready target pod "
            "carries condition timestamps)";
        break;
      }
      s.predicted = *p.replacement_lower_bound;
      if (*p.replacement_lower_bound > spec.within) {
        s.verdict = "fail";
        s.why = "lower bound " + num(*p.replacement_lower_bound) + "s > " + num(spec.within) + "s";
        break;
      }
      s.verdict = "pass";
      s.why = "every displaced pod fits; lower bound " + num(*p.replacement_lower_bound) +
              "s <= " + num(spec.within) + "s";
      if (p.skew_after) s.why += ", skew " + std::to_string(*p.skew_after);
      break;
    }
    case K::Pdb: {
      const PdbPrediction* b = nullptr;
      for (const auto& x : p.pdbs)
        if (spec.pdb.empty() ? p.pdbs.size() == 1 : x.name == spec.pdb) b = &x;
      if (!b) {
        s.verdict = "fail";
        s.why = spec.pdb.empty() ? "no single PodDisruptionBudget in the target namespace"
                                 : "no PodDisruptionBudget " + spec.pdb;
        break;
      }
      if (!has(p.scenario, FaultKind::Drain)) {
        s.verdict = "fail";
        s.why = "no voluntary disruption (drain) happens, and the pdb SLO is judged on one";
        break;
      }
      s.predicted = b->min_healthy;
      s.verdict = b->violated_by > 0 ? "fail" : "pass";
      s.why = "min " + std::to_string(b->min_healthy) + " healthy (desiredHealthy " +
              std::to_string(b->desired_healthy) + ")";
      if (b->violated_by > 0) s.why += ", violated by " + std::to_string(b->violated_by);
      break;
    }
    case K::Availability:
      if (p.min_ready_endpoints == 0) {
        s.verdict = "fail";
        s.why = "the Service is predicted to have 0 ready endpoints during the fault";
      } else {
        s.why = "depends on the app's traffic and clients, which the model does not see (" +
                std::to_string(p.min_ready_endpoints) + " ready endpoints remain)";
      }
      break;
    case K::Latency:
    case K::Prometheus:
      s.why = "depends on the app's behaviour under load, which the model does not see";
      break;
    case K::Rto:
    case K::Rpo:
    case K::RestoreComplete:
      s.why = "a restore drill's figure: Velero's work, which the model does not simulate";
      break;
  }
  p.slos.push_back(s);
}

}  // namespace

Prediction predict(const Snapshot& snapshot, const Scenario& sc,
                   const std::vector<slo::SloSpec>& slos, const chaos::Guards& guards) {
  Prediction p;
  p.scenario = sc;
  p.outcome = simulate(snapshot, sc);
  const Outcome& o = p.outcome;
  std::set<std::string> faulted(o.faulted_zones.begin(), o.faulted_zones.end());

  // Guards, with the run's own checks (chaos::Guards), fault by fault.
  try {
    if (!faulted.empty()) guards.check_zones(faulted, snapshot.zones().size());
    if (!o.faulted_nodes.empty()) guards.check_nodes(o.faulted_nodes.size(), snapshot.nodes.size());
    if (has(sc, FaultKind::KillPods) || has(sc, FaultKind::ViolatePdb))
      guards.check_namespace(sc.target_ns);
  } catch (const GuardError& e) {
    p.guard_refusals.push_back(e.what());
  }
  std::map<std::string, int> collateral;
  if (has(sc, FaultKind::FailZone))
    for (const auto& d : o.displaced) {
      std::string ns = d.pod.substr(0, d.pod.find('/'));
      if (!guards.namespace_allowed(ns)) ++collateral[ns];
    }
  for (const auto& [ns, n] : collateral)
    p.warnings.push_back("collateral: fail_zone's taint evicts " + std::to_string(n) +
                         " pod(s) in namespace " + ns + " (not in guards.namespaces)");
  for (const auto& sk : o.skipped)
    if (sk.reason == "namespace not in guards.namespaces")
      p.warnings.push_back("drain skips " + sk.pod +
                           " (namespace not in guards.namespaces): its node stays occupied");

  // Time to Ready of the target's pods, from their own condition timestamps.
  std::vector<double> ttr;
  for (const auto& pod : snapshot.pods)
    if (selects_target(sc, pod) && pod.time_to_ready) ttr.push_back(*pod.time_to_ready);
  std::sort(ttr.begin(), ttr.end());
  p.ready_samples = static_cast<int>(ttr.size());
  if (!ttr.empty()) p.time_to_ready = ttr[ttr.size() / 2];
  for (const auto& n : snapshot.notes) p.notes.push_back(n);
  p.notes.push_back("condition timestamps have 1 s resolution: the time to Ready is within ±1 s");

  // PDBs of the target namespace.
  int drain_allowed = -1;  // the tightest budget over the target's pods
  for (const auto& pdb : snapshot.pdbs) {
    if (pdb.ns != sc.target_ns) continue;
    PdbPrediction b;
    b.name = pdb.name;
    bool covers_target = false;
    for (const auto& pod : snapshot.pods) {
      if (pod.ns != pdb.ns || pod.terminating ||
          !label_selector_matches(pdb.selector, pod.spec().labels))
        continue;
      ++b.expected;
      b.healthy += pod.ready ? 1 : 0;
      if (pod.ready && displaced_ref(o, pod.ref())) ++b.displaced;
      covers_target = covers_target || selects_target(sc, pod);
    }
    b.desired_healthy =
        pdb.min_available ? resolve(*pdb.min_available, b.expected)
                          : b.expected - resolve(pdb.max_unavailable.value_or(json(0)), b.expected);
    b.disruptions_allowed = pdb.disruptions_allowed;
    bool evicting = has(sc, FaultKind::Drain);
    bool deleting = has(sc, FaultKind::FailZone) || has(sc, FaultKind::KillPods) ||
                    has(sc, FaultKind::ViolatePdb);
    int lost_at_once = b.displaced;
    if (evicting && !deleting)
      lost_at_once = std::min(b.displaced, std::max(0, b.disruptions_allowed));
    b.min_healthy = b.healthy - lost_at_once;
    b.violated_by = std::max(0, b.desired_healthy - b.min_healthy);
    if (evicting && b.displaced > 0 && b.disruptions_allowed > 0)
      b.drain_waves = (b.displaced + b.disruptions_allowed - 1) / b.disruptions_allowed;
    if (evicting && b.displaced > 0 && b.disruptions_allowed <= 0)
      p.warnings.push_back(
          "PDB " + b.name +
          " allows no disruption now: the drain cannot evict its pods and will time out");
    if (covers_target && (drain_allowed < 0 || b.disruptions_allowed < drain_allowed))
      drain_allowed = b.disruptions_allowed;
    p.pdbs.push_back(b);
  }

  // Ready endpoints: the Service's EndpointSlices, else the target's Ready pods.
  std::map<std::string, int> now_per_zone, lost_per_zone;
  std::vector<std::pair<std::string, std::string>> eps;  // (ref, zone) of ready endpoints
  if (!snapshot.endpoints.empty()) {
    for (const auto& e : snapshot.endpoints)
      if (e.ready) {
        std::string zone = e.zone;
        for (const auto& pod : snapshot.pods)
          if (pod.ns == e.pod_ns && pod.name == e.pod_name && snapshot.node(pod.node))
            zone = snapshot.node(pod.node)->zone;
        eps.emplace_back(e.pod_ns + "/" + e.pod_name, zone);
      }
  } else {
    for (const auto& pod : snapshot.pods)
      if (selects_target(sc, pod) && pod.ready && !pod.terminating && snapshot.node(pod.node))
        eps.emplace_back(pod.ref(), snapshot.node(pod.node)->zone);
  }
  int lost = 0;
  for (const auto& [ref, zone] : eps) {
    ++now_per_zone[zone];
    if (displaced_ref(o, ref)) ++lost, ++lost_per_zone[zone];
  }
  p.ready_endpoints_now = static_cast<int>(eps.size());
  bool only_evictions = has(sc, FaultKind::Drain) && !has(sc, FaultKind::FailZone) &&
                        !has(sc, FaultKind::KillPods) && !has(sc, FaultKind::ViolatePdb);
  // A drain goes through the eviction API: at most disruptionsAllowed pods
  // are gone at once (replacements refill the budget before the next wave).
  int lost_at_once = lost;
  if (only_evictions && drain_allowed >= 0) lost_at_once = std::min(lost, drain_allowed);
  p.min_ready_endpoints = p.ready_endpoints_now - lost_at_once;
  for (const auto& z : snapshot.zones())
    if (!faulted.count(z)) p.min_ready_per_zone[z] = now_per_zone[z] - lost_per_zone[z];

  // Time bounds.
  int displaced_target = 0;
  for (const auto& d : o.displaced) displaced_target += d.target ? 1 : 0;
  if (p.time_to_ready && displaced_target > 0) {
    if (has(sc, FaultKind::Drain)) {
      if (drain_allowed > 0) {
        int waves = (displaced_target + drain_allowed - 1) / drain_allowed;
        p.drain_lower_bound = waves * *p.time_to_ready;
        p.replacement_lower_bound = p.drain_lower_bound;
      } else if (drain_allowed < 0) {
        p.drain_lower_bound = *p.time_to_ready;  // no PDB: one wave
        p.replacement_lower_bound = p.drain_lower_bound;
      }
    } else {
      p.replacement_lower_bound = *p.time_to_ready;  // all at once: one wave
    }
  }

  // Spread after re-placement, over the zones that survive.
  std::optional<int> lo, hi;
  for (const auto& [z, n] : o.target_per_zone_after) {
    if (faulted.count(z) || z.empty()) continue;
    lo = lo ? std::min(*lo, n) : n;
    hi = hi ? std::max(*hi, n) : n;
  }
  if (lo) p.skew_after = *hi - *lo;

  for (const auto& s : slos) predict_slo(p, s);
  return p;
}

std::string overall(const Prediction& p) {
  if (!p.guard_refusals.empty()) return "fail";
  bool unknown = false;
  for (const auto& s : p.slos) {
    if (s.verdict == "fail") return "fail";
    unknown = unknown || s.verdict == "unknown";
  }
  return unknown ? "unknown" : "pass";
}

}  // namespace faultline::plan
