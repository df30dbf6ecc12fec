#include "runner/experiment/spec.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <regex>

#include "runner/common/error.h"
#include "runner/common/yaml_reader.h"

namespace faultline::experiment {
namespace {

// YAML scalars become JSON numbers/booleans when they read as such.
nlohmann::json to_json(const YamlReader& node) {
  if (node.is_map()) {
    nlohmann::json out = nlohmann::json::object();
    node.for_each([&](const std::string& k, const YamlReader& v) { out[k] = to_json(v); });
    return out;
  }
  if (node.is_sequence()) {
    nlohmann::json out = nlohmann::json::array();
    for (size_t i = 0; i < node.size(); ++i) out.push_back(to_json(node.at(i)));
    return out;
  }
  if (!node.defined()) return nullptr;
  const std::string s = node.node().Scalar();
  if (node.node().Tag() != "!") {  // unquoted
    if (s == "true") return true;
    if (s == "false") return false;
    static const std::regex integer("^-?[0-9]+$"), real("^-?[0-9]*\\.[0-9]+$");
    if (std::regex_match(s, integer)) {
      long long v = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc() || end != s.data() + s.size())
        node.fail("\"" + s + "\": whole number out of range (at most 9223372036854775807)");
      return v;
    }
    if (std::regex_match(s, real)) {
      double v = std::strtod(s.c_str(), nullptr);
      if (!std::isfinite(v)) node.fail("\"" + s + "\": number out of range");
      return v;
    }
  }
  return s;
}

void parse_guards(const YamlReader& g, chaos::Guards& guards) {
  g.expect_map({"max_zones", "max_node_fraction", "namespaces", "allow_kube_system",
                "allow_collateral", "allow_all_zones"},
               "spec.guards");
  if (g.has("max_zones")) {
    auto zones = g["max_zones"].as_int("guards.max_zones");
    if (zones < 1 || zones > 1000)
      g["max_zones"].fail("guards.max_zones: expected a whole number from 1 to 1000");
    guards.max_zones = static_cast<int>(zones);
  }
  if (g.has("max_node_fraction"))
    guards.max_node_fraction = g["max_node_fraction"].as_ratio("guards.max_node_fraction");
  if (g.has("namespaces")) {
    auto list = g["namespaces"];
    list.expect_sequence("guards.namespaces");
    guards.namespaces.clear();
    for (size_t i = 0; i < list.size(); ++i)
      guards.namespaces.push_back(list.at(i).as_string("guards.namespaces[]"));
  }
  if (g.has("allow_kube_system"))
    guards.allow_kube_system = g["allow_kube_system"].as_bool("guards.allow_kube_system");
  if (g.has("allow_collateral"))
    guards.allow_collateral = g["allow_collateral"].as_bool("guards.allow_collateral");
  if (g.has("allow_all_zones"))
    guards.allow_all_zones = g["allow_all_zones"].as_bool("guards.allow_all_zones");
}

void parse_timing(const YamlReader& t, Timing& timing) {
  t.expect_map({"warmup", "recovery", "cooldown"}, "spec.timing");
  if (t.has("warmup")) timing.warmup = t["warmup"].as_duration("timing.warmup");
  if (t.has("recovery")) timing.recovery = t["recovery"].as_duration("timing.recovery");
  if (t.has("cooldown")) timing.cooldown = t["cooldown"].as_duration("timing.cooldown");
}

Experiment parse(const YamlReader& root) {
  Experiment e;
  e.file = root.file();
  if (!root.is_map())
    root.fail("expected an Experiment (a mapping with apiVersion, kind, metadata, spec)");
  root.expect_map({"apiVersion", "kind", "metadata", "spec"}, "Experiment");
  if (root["apiVersion"].as_string("apiVersion") != "faultline.io/v1alpha1")
    root["apiVersion"].fail("apiVersion: expected faultline.io/v1alpha1");
  if (root["kind"].as_string("kind") != "Experiment")
    root["kind"].fail("kind: expected Experiment");
  auto meta = root["metadata"];
  meta.expect_map({"name", "labels", "annotations"}, "metadata");
  e.name = meta["name"].as_string("metadata.name");
  static const std::regex dns("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$");
  if (!std::regex_match(e.name, dns))
    meta["name"].fail(
        "metadata.name: expected a DNS label (lower-case letters, digits, '-'), got \"" + e.name +
        "\"");

  auto spec = root["spec"];
  spec.expect_map({"script", "params", "target", "probes", "slos", "abort", "guards", "timing",
                   "params_schema", "dr"},
                  "spec");
  e.script = spec["script"].as_string("spec.script");
  static const std::regex script_name("^[A-Za-z0-9_][A-Za-z0-9_.-]*\\.lua$");
  if (!std::regex_match(e.script, script_name))
    spec["script"].fail(
        "spec.script: expected a file name under the scripts directory, like zone_outage.lua");
  if (spec.has("params")) {
    if (!spec["params"].is_map()) spec["params"].fail("spec.params: expected a mapping");
    e.params = to_json(spec["params"]);
    try {
      (void)e.params.dump();  // the report writes params as JSON: they must be text
    } catch (const nlohmann::json::type_error&) {
      spec["params"].fail("spec.params: a value is not valid UTF-8 text");
    }
    spec["params"].for_each([&](const std::string& k, const YamlReader& v) {
      e.param_values[k] = observe::SpecLocation::of(v);
    });
  }
  if (spec.has("params_schema")) {
    e.params_schema = parse_params_schema(spec["params_schema"]);
    check_params(e.params_schema, e.params, e.param_values);
  }
  auto target = spec["target"];
  target.expect_map({"namespace", "selector", "service"}, "spec.target");
  e.target.namespace_ = target["namespace"].as_string("spec.target.namespace");
  e.target.selector = target["selector"].as_selector("spec.target.selector");
  if (target.has("service")) e.target.service = target["service"].as_string("spec.target.service");
  e.guards.namespaces = {e.target.namespace_};
  if (spec.has("probes")) e.probes = observe::parse_probes(spec["probes"]);
  if (spec.has("slos")) e.slos = slo::parse_slos(spec["slos"]);
  if (spec.has("abort")) e.aborts = slo::parse_aborts(spec["abort"]);
  if (spec.has("guards")) parse_guards(spec["guards"], e.guards);
  if (spec.has("timing")) parse_timing(spec["timing"], e.timing);
  // Here, not at run time: validate, plan and run refuse it alike, at the
  // line that names it, before anything connects to the cluster.
  if (e.target.namespace_ == "kube-system" && !e.guards.allow_kube_system)
    target["namespace"].fail(
        "spec.target.namespace: kube-system is untouchable unless guards.allow_kube_system is "
        "true");
  if (spec.has("dr")) e.dr = dr::parse_dr_spec(spec["dr"]);
  slo::link_probes(e.slos, e.aborts, e.probes, e.target);
  return e;
}

}  // namespace

Experiment parse_experiment_file(const std::string& path) {
  return parse(YamlReader::load_file(path));
}

Experiment parse_experiment_text(const std::string& file, const std::string& text) {
  return parse(YamlReader::load_text(file, text));
}

void apply_param_override(Experiment& e, const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError("--param " + assignment + ": expected key=value");
  const std::string key = assignment.substr(0, eq);
  e.params[key] = assignment.substr(eq + 1);
  e.param_values.erase(key);  // an error now names the --param, not the file
  check_params(e.params_schema, e.params, e.param_values);
}

}  // namespace faultline::experiment
