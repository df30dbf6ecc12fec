// The experiment spec: what is accepted, and the exact one-line error for
// what is not (file:line:col: what was expected).
#include "runner/experiment/spec.h"

#include <gtest/gtest.h>

#include <fstream>

#include "runner/common/error.h"

namespace faultline::experiment {
namespace {

const char* kValid = R"(apiVersion: faultline.io/v1alpha1
kind: Experiment
metadata: { name: zone-outage }
spec:
  script: zone_outage.lua
  params: { zone: zone-a, count: 2, ratio: 0.5, quoted: "7", flag: true }
  target: { namespace: shop, selector: app=checkout, service: checkout }
  probes:
    - { name: endpoints, endpoints: { service: checkout } }
  slos:
    - { replacement: { within: 90s, max_skew: 1 } }
  guards: { max_zones: 1, max_node_fraction: "40%" }
  timing: { warmup: 1s }
)";

std::string error_of(const std::string& text) {
  try {
    parse_experiment_text("exp.yaml", text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(Spec, ParsesAValidExperiment) {
  auto e = parse_experiment_text("exp.yaml", kValid);
  EXPECT_EQ(e.name, "zone-outage");
  EXPECT_EQ(e.script, "zone_outage.lua");
  EXPECT_EQ(e.params["zone"], "zone-a");
  EXPECT_EQ(e.params["count"], 2);
  EXPECT_DOUBLE_EQ(e.params["ratio"].get<double>(), 0.5);
  EXPECT_EQ(e.params["quoted"], "7");  // quoted stays a string
  EXPECT_EQ(e.params["flag"], true);
  EXPECT_EQ(e.target.namespace_, "shop");
  EXPECT_EQ(e.guards.namespaces, std::vector<std::string>{"shop"});  // default: the target's
  EXPECT_DOUBLE_EQ(e.guards.max_node_fraction, 0.4);
  EXPECT_DOUBLE_EQ(e.timing.warmup.count(), 1.0);
  ASSERT_EQ(e.slos.size(), 1u);
  EXPECT_DOUBLE_EQ(e.slos[0].within, 90.0);
}

TEST(Spec, UnknownFieldNamesTheLineAndTheAllowedFields) {
  EXPECT_EQ(error_of(replace(kValid, "  timing:", "  timeing:")),
            "exp.yaml:13:3: unknown field \"timeing\" in spec (expected one of: script, params, target, "
            "probes, slos, abort, guards, timing)");
}

TEST(Spec, BadDurationIsAnErrorAtItsLine) {
  EXPECT_EQ(error_of(replace(kValid, "warmup: 1s", "warmup: 1 fortnight")),
            "exp.yaml:13:21: timing.warmup: invalid duration \"1 fortnight\" (expected e.g. 90s, 2m, 250ms)");
}

TEST(Spec, MalformedYamlIsAnErrorAtItsLine) {
  std::string err = error_of(replace(kValid, "metadata: { name: zone-outage }", "metadata: { name: zone-outage"));
  EXPECT_EQ(err.rfind("exp.yaml:4:", 0), 0u) << err;
  EXPECT_NE(err.find("invalid YAML"), std::string::npos) << err;
}

TEST(Spec, WrongApiVersionAndKind) {
  EXPECT_EQ(error_of(replace(kValid, "faultline.io/v1alpha1", "faultline.io/v2")),
            "exp.yaml:1:13: apiVersion: expected faultline.io/v1alpha1");
  EXPECT_EQ(error_of(replace(kValid, "kind: Experiment", "kind: Drill")), "exp.yaml:2:7: kind: expected Experiment");
}

TEST(Spec, ScriptMustBeALuaFileName) {
  EXPECT_EQ(error_of(replace(kValid, "script: zone_outage.lua", "script: ../../etc/passwd")),
            "exp.yaml:5:11: spec.script: expected a file name under the scripts directory, like zone_outage.lua");
}

TEST(Spec, MissingTargetSelector) {
  EXPECT_EQ(error_of(replace(kValid, "selector: app=checkout, ", "")),
            "exp.yaml:7:11: spec.target.selector: required field \"selector\" is missing");
}

TEST(Spec, GuardsRejectZeroZones) {
  EXPECT_EQ(error_of(replace(kValid, "max_zones: 1", "max_zones: 0")),
            "exp.yaml:12:24: guards.max_zones: expected a whole number >= 1");
}

TEST(Spec, ParamOverrideNeedsKeyEqualsValue) {
  auto e = parse_experiment_text("exp.yaml", kValid);
  apply_param_override(e, "zone=zone-b");
  EXPECT_EQ(e.params["zone"], "zone-b");
  EXPECT_THROW(apply_param_override(e, "zone"), InputError);
}

TEST(Spec, EveryShippedExperimentParses) {
  for (const char* name : {"zone-outage", "zone-drain", "pod-kill", "pdb-violation", "rolling-failover"}) {
    std::string path = std::string(FAULTLINE_SOURCE_DIR) + "/experiments/" + name + ".yaml";
    EXPECT_NO_THROW(parse_experiment_file(path)) << path;
  }
}

}  // namespace
}  // namespace faultline::experiment
