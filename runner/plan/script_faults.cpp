#include "runner/plan/script_faults.h"

#include <cctype>

namespace faultline::plan {

namespace {

int int_param(const json& params, const char* key, int fallback) {
  if (!params.contains(key)) return fallback;
  const auto& v = params[key];
  if (v.is_number_integer()) return v.get<int>();
  if (v.is_string()) {
    try {
      return std::stoi(v.get<std::string>());
    } catch (const std::exception&) {
    }
  }
  return fallback;
}

std::string str_param(const json& params, const char* key, const std::string& fallback) {
  return params.contains(key) && params[key].is_string() ? params[key].get<std::string>()
                                                         : fallback;
}

// The names of the chaos.<name>( / chaos.<name>{ calls, in order; "--"
// comments skipped. A plain scan (no std::regex: GCC 12's <regex> trips
// -Wmaybe-uninitialized under the sanitizer build).
std::vector<std::string> chaos_calls(const std::string& source) {
  std::vector<std::string> out;
  const std::string prefix = "chaos.";
  size_t i = 0;
  while (i < source.size()) {
    if (source.compare(i, 2, "--") == 0) {
      i = source.find('\n', i);
      if (i == std::string::npos) break;
      continue;
    }
    bool word_start = i == 0 || !(std::isalnum(static_cast<unsigned char>(source[i - 1])) ||
                                  source[i - 1] == '_');
    if (word_start && source.compare(i, prefix.size(), prefix) == 0) {
      size_t j = i + prefix.size(), name_start = j;
      while (j < source.size() &&
             (std::islower(static_cast<unsigned char>(source[j])) || source[j] == '_'))
        ++j;
      std::string name = source.substr(name_start, j - name_start);
      while (j < source.size() && std::isspace(static_cast<unsigned char>(source[j]))) ++j;
      if (!name.empty() && j < source.size() && (source[j] == '(' || source[j] == '{'))
        out.push_back(name);
      i = j;
      continue;
    }
    ++i;
  }
  return out;
}

}  // namespace

ScriptFaults script_faults(const std::string& source, const json& params,
                           const std::string& zone_for_default, const std::string& target_service) {
  ScriptFaults out;
  std::string zone = str_param(params, "zone", zone_for_default);
  bool restores = false;
  for (const std::string& fn : chaos_calls(source)) {
    Fault f;
    if (fn == "cordon_zone")
      f = {FaultKind::Cordon, zone};
    else if (fn == "drain_zone")
      f = {FaultKind::Drain, zone};
    else if (fn == "fail_zone")
      f = {FaultKind::FailZone, zone};
    else if (fn == "kill_pods") {
      f.kind = FaultKind::KillPods;
      f.zone = str_param(params, "zone", "");
      f.count = int_param(params, "count", 2);
      if (params.contains("percent"))
        out.notes.push_back("kill_pods by percent is modelled as count " + std::to_string(f.count));
    } else if (fn == "violate_pdb") {
      f.kind = FaultKind::ViolatePdb;
      f.pdb = str_param(params, "pdb", target_service);
      f.by = int_param(params, "by", 1);
    } else if (fn == "restore_zone") {
      restores = true;
      continue;
    } else {
      out.notes.push_back("chaos." + fn + " is not modelled");
      continue;
    }
    out.faults.push_back(f);
  }
  if (restores)
    out.notes.push_back(
        "the script restores zones and faults them one after another; the plan models one zone "
        "(params.zone, else the busiest)");
  if (out.faults.empty()) out.notes.push_back("the script makes no fault the plan can model");
  return out;
}

std::string busiest_zone(const Snapshot& snapshot, const Scenario& scenario) {
  std::string best;
  int most = -1;
  for (const auto& z : snapshot.zones()) {
    int n = 0;
    for (const auto& p : snapshot.pods)
      if (selects_target(scenario, p) && snapshot.node(p.node) && snapshot.node(p.node)->zone == z)
        ++n;
    if (n > most) best = z, most = n;
  }
  return best;
}

}  // namespace faultline::plan
