// The prediction as JSON (the `prediction` section of the run record, and
// `faultline plan --output json`) and as text for a terminal.
#include <sstream>

#include "runner/plan/predict.h"

namespace faultline::plan {

namespace {

json opt(const std::optional<double>& v) { return v ? json(*v) : json(); }

}  // namespace

json to_json(const Prediction& p) {
  json faults = json::array();
  for (const auto& f : p.scenario.faults) {
    json j = {{"kind", to_string(f.kind)}};
    if (!f.zone.empty()) j["zone"] = f.zone;
    if (f.kind == FaultKind::KillPods) j["count"] = f.count;
    if (f.kind == FaultKind::ViolatePdb) j["pdb"] = f.pdb, j["by"] = f.by;
    faults.push_back(j);
  }
  json displaced = json::array(), pending = json::array();
  for (const auto& d : p.outcome.displaced) {
    json j = {
        {"pod", d.pod}, {"workload", d.workload}, {"target", d.target}, {"replaced", d.replaced}};
    if (!d.node.empty()) j["node"] = d.node, j["zone"] = d.zone;
    if (d.replaced && d.node.empty()) j["pending_reason"] = d.pending_reason;
    displaced.push_back(j);
    if (d.node.empty())
      pending.push_back(
          {{"pod", d.pod},
           {"workload", d.workload},
           {"reason", d.replaced ? d.pending_reason : "not re-created (no controller)"}});
  }
  json skipped = json::array();
  for (const auto& s : p.outcome.skipped) skipped.push_back({{"pod", s.pod}, {"reason", s.reason}});
  json pdbs = json::array();
  for (const auto& b : p.pdbs) {
    json j = {{"name", b.name},
              {"expected_pods", b.expected},
              {"healthy", b.healthy},
              {"desired_healthy", b.desired_healthy},
              {"disruptions_allowed", b.disruptions_allowed},
              {"displaced", b.displaced},
              {"min_healthy", b.min_healthy},
              {"violated_by", b.violated_by}};
    j["drain_waves"] = b.drain_waves ? json(*b.drain_waves) : json();
    pdbs.push_back(j);
  }
  json slos = json::array();
  for (const auto& s : p.slos) {
    json j = {{"name", s.name}, {"verdict", s.verdict}, {"why", s.why}};
    j["predicted"] = opt(s.predicted);
    slos.push_back(j);
  }
  return {{"verdict", overall(p)},
          {"faults", faults},
          {"faulted_zones", p.outcome.faulted_zones},
          {"faulted_nodes", p.outcome.faulted_nodes},
          {"displaced", displaced},
          {"pending", pending},
          {"skipped", skipped},
          {"target_per_zone_after", p.outcome.target_per_zone_after},
          {"skew_after", p.skew_after ? json(*p.skew_after) : json()},
          {"ready_endpoints",
           {{"now", p.ready_endpoints_now},
            {"min", p.min_ready_endpoints},
            {"min_per_surviving_zone", p.min_ready_per_zone}}},
          {"pdbs", pdbs},
          {"time",
           {{"time_to_ready_s", opt(p.time_to_ready)},
            {"ready_samples", p.ready_samples},
            {"drain_lower_bound_s", opt(p.drain_lower_bound)},
            {"replacement_lower_bound_s", opt(p.replacement_lower_bound)}}},
          {"guard_refusals", p.guard_refusals},
          {"warnings", p.warnings},
          {"notes", p.notes},
          {"slos", slos}};
}

std::string to_text(const Prediction& p) {
  std::ostringstream o;
  json j = to_json(p);
  o << "faults:";
  for (const auto& f : j["faults"]) {
    o << " " << f["kind"].get<std::string>();
    if (f.contains("zone")) o << "(" << f["zone"].get<std::string>() << ")";
  }
  o << "\n";
  if (!p.outcome.faulted_nodes.empty()) {
    o << "faulted nodes: " << p.outcome.faulted_nodes.size() << " (";
    for (size_t i = 0; i < p.outcome.faulted_nodes.size(); ++i)
      o << (i ? ", " : "") << p.outcome.faulted_nodes[i];
    o << ")\n";
  }
  int placed = 0;
  for (const auto& d : p.outcome.displaced) placed += d.node.empty() ? 0 : 1;
  o << "displaced: " << p.outcome.displaced.size() << " pod(s), " << placed << " re-placed, "
    << (p.outcome.displaced.size() - static_cast<size_t>(placed)) << " Pending or lost\n";
  for (const auto& d : p.outcome.displaced) {
    if (!d.node.empty())
      o << "  " << d.pod << " -> " << d.node << " (" << d.zone << ")\n";
    else
      o << "  " << d.pod
        << " PENDING: " << (d.replaced ? d.pending_reason : "not re-created (no controller)")
        << "\n";
  }
  for (const auto& s : p.outcome.skipped) o << "  skipped " << s.pod << ": " << s.reason << "\n";
  o << "target after: ";
  bool first = true;
  for (const auto& [z, n] : p.outcome.target_per_zone_after)
    o << (first ? "" : ", ") << z << " " << n, first = false;
  if (p.skew_after) o << "; skew " << *p.skew_after << " over surviving zones";
  o << "\nready endpoints: " << p.ready_endpoints_now << " now, min " << p.min_ready_endpoints
    << " during the fault";
  for (const auto& [z, n] : p.min_ready_per_zone) o << "; " << z << " min " << n;
  o << "\n";
  for (const auto& b : p.pdbs) {
    o << "pdb " << b.name << ": " << b.healthy << "/" << b.expected << " healthy, desiredHealthy "
      << b.desired_healthy << ", disruptionsAllowed " << b.disruptions_allowed << "; min "
      << b.min_healthy << " during the fault";
    if (b.violated_by > 0) o << " (VIOLATED by " << b.violated_by << ")";
    if (b.drain_waves) o << "; drain in " << *b.drain_waves << " wave(s)";
    o << "\n";
  }
  o << "time to Ready: ";
  if (p.time_to_ready)
    o << *p.time_to_ready << "s (median of " << p.ready_samples << " pods)";
  else
    o << "unknown";
  if (p.drain_lower_bound) o << "; drain >= " << *p.drain_lower_bound << "s";
  if (p.replacement_lower_bound) o << "; replacement >= " << *p.replacement_lower_bound << "s";
  o << "\n";
  for (const auto& g : p.guard_refusals) o << "GUARD REFUSES: " << g << "\n";
  for (const auto& w : p.warnings) o << "warning: " << w << "\n";
  for (const auto& s : p.slos) o << "slo " << s.name << ": " << s.verdict << " — " << s.why << "\n";
  o << "prediction: " << overall(p) << "\n";
  return o.str();
}

}  // namespace faultline::plan
