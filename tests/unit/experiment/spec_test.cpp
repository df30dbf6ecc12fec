// The experiment spec: what is accepted, and the exact one-line error for
// what is not (file:line:col: what was expected).
#include "runner/experiment/spec.h"

#include <gtest/gtest.h>

#include <fstream>

#include "runner/common/error.h"
#include "tests/test_paths.h"

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
  EXPECT_EQ(
      error_of(replace(kValid, "  timing:", "  timeing:")),
      "exp.yaml:13:3: unknown field \"timeing\" in spec (expected one of: script, params, target, "
      "probes, slos, abort, guards, timing, params_schema, dr)");
}

TEST(Spec, BadDurationIsAnErrorAtItsLine) {
  EXPECT_EQ(error_of(replace(kValid, "warmup: 1s", "warmup: 1 fortnight")),
            "exp.yaml:13:21: timing.warmup: invalid duration \"1 fortnight\" (expected e.g. 90s, "
            "2m, 250ms)");
}

TEST(Spec, MalformedYamlIsAnErrorAtItsLine) {
  std::string err =
      error_of(replace(kValid, "metadata: { name: zone-outage }", "metadata: { name: zone-outage"));
  EXPECT_EQ(err.rfind("exp.yaml:4:", 0), 0u) << err;
  EXPECT_NE(err.find("invalid YAML"), std::string::npos) << err;
}

TEST(Spec, WrongApiVersionAndKind) {
  EXPECT_EQ(error_of(replace(kValid, "faultline.io/v1alpha1", "faultline.io/v2")),
            "exp.yaml:1:13: apiVersion: expected faultline.io/v1alpha1");
  EXPECT_EQ(error_of(replace(kValid, "kind: Experiment", "kind: Drill")),
            "exp.yaml:2:7: kind: expected Experiment");
}

TEST(Spec, ScriptMustBeALuaFileName) {
  EXPECT_EQ(error_of(replace(kValid, "script: zone_outage.lua", "script: ../../etc/passwd")),
            "exp.yaml:5:11: spec.script: expected a file name under the scripts directory, like "
            "zone_outage.lua");
}

// Found by tests/fuzz: a missing mapping threw YAML::InvalidNode (exit 4).
TEST(Spec, MissingTargetIsAnInputErrorNotACrash) {
  EXPECT_EQ(error_of(replace(
                kValid,
                "  target: { namespace: shop, selector: app=checkout, service: checkout }\n", "")),
            "exp.yaml:5:3: spec.target: expected a mapping");
}

TEST(Spec, MissingTargetSelector) {
  EXPECT_EQ(error_of(replace(kValid, "selector: app=checkout, ", "")),
            "exp.yaml:7:11: spec.target.selector: required field \"selector\" is missing");
}

TEST(Spec, GuardsRejectZeroZones) {
  EXPECT_EQ(error_of(replace(kValid, "max_zones: 1", "max_zones: 0")),
            "exp.yaml:12:24: guards.max_zones: expected a whole number from 1 to 1000");
}

TEST(Spec, KubeSystemTargetIsRefusedAtItsLineUnlessAllowed) {
  const std::string kube_system = replace(kValid, "namespace: shop", "namespace: kube-system");
  EXPECT_EQ(error_of(kube_system),
            "exp.yaml:7:24: spec.target.namespace: kube-system is untouchable unless "
            "guards.allow_kube_system is true");
  auto allowed = parse_experiment_text(
      "exp.yaml", replace(kube_system, "max_zones: 1,", "max_zones: 1, allow_kube_system: true,"));
  EXPECT_EQ(allowed.target.namespace_, "kube-system");
  EXPECT_TRUE(allowed.guards.allow_kube_system);
}

TEST(Spec, TargetSelectorSyntaxErrorIsRefusedAtItsColumn) {
  EXPECT_EQ(error_of(replace(kValid, "selector: app=checkout", "selector: app=check out")),
            "exp.yaml:7:40: spec.target.selector: label selector \"app=check out\": expected \",\" "
            "or the end "
            "after a requirement, got \"out\"");
  EXPECT_EQ(error_of(replace(kValid, "selector: app=checkout", "selector: \"app in (a\"")),
            "exp.yaml:7:40: spec.target.selector: label selector \"app in (a\": expected \",\" or "
            "\")\" in the "
            "values of \"app in\", got end of selector");
}

TEST(Spec, PodsProbeSelectorSyntaxErrorIsRefused) {
  EXPECT_EQ(error_of(replace(kValid, "    - { name: endpoints, endpoints: { service: checkout } }",
                             "    - { name: pods, pods: { selector: \"app=(x)\" } }")),
            "exp.yaml:9:39: pods probe selector: label selector \"app=(x)\": expected a value "
            "after \"app=\", "
            "got \"(\"");
}

TEST(Spec, DuplicateKeyIsAnError) {
  EXPECT_EQ(error_of(replace(kValid, "  timing: { warmup: 1s }",
                             "  timing: { warmup: 1s }\n  guards: {}")),
            "exp.yaml:14:3: duplicate key \"guards\" (first at line 12)");
}

TEST(Spec, TwentyDigitParamIsAnInputErrorAtItsColumn) {
  EXPECT_EQ(error_of(replace(kValid, "count: 2", "count: 99999999999999999999")),
            "exp.yaml:6:34: \"99999999999999999999\": whole number out of range (at most "
            "9223372036854775807)");
  EXPECT_EQ(error_of(replace(kValid, "ratio: 0.5", "ratio: " + std::string(400, '9') + ".5")),
            "exp.yaml:6:44: \"" + std::string(400, '9') + ".5\": number out of range");
}

TEST(Spec, HugeDurationIsTooLongNotUndefined) {
  EXPECT_EQ(error_of(replace(kValid, "warmup: 1s", "warmup: " + std::string(400, '9') + "s")),
            "exp.yaml:13:21: timing.warmup: duration \"" + std::string(400, '9') +
                "s\" is too long (at most 8784h)");
}

TEST(Spec, PrometheusEveryBelow100msIsRefused) {
  const std::string probe =
      "    - { name: endpoints, endpoints: { service: checkout } }\n"
      "    - { name: q, prometheus: { url: \"http://127.0.0.1:9090\", query: up, every: EVERY } }";
  auto with = [&](const std::string& every) {
    return error_of(replace(kValid, "    - { name: endpoints, endpoints: { service: checkout } }",
                            replace(probe, "EVERY", every)));
  };
  EXPECT_EQ(with("50ms"), "exp.yaml:10:80: prometheus probe every: must be at least 100ms");
  EXPECT_EQ(with("0.5ns"),
            "exp.yaml:10:80: prometheus probe every: invalid duration \"0.5ns\" (expected e.g. "
            "90s, 2m, 250ms)");
  EXPECT_EQ(with("0.0001"), "exp.yaml:10:80: prometheus probe every: must be at least 1ms");
  EXPECT_EQ(with("100ms"), "");
}

const char* kWithSchema = R"(apiVersion: faultline.io/v1alpha1
kind: Experiment
metadata: { name: zone-outage }
spec:
  script: zone_outage.lua
  params: { zone: zone-a, within: WITHIN, count: 2 }
  params_schema:
    zone: { type: string, required: true }
    within: { type: duration, min: 1s, max: 10m }
    count: { type: integer, min: 1, max: 100 }
    hold: { type: duration }
  target: { namespace: shop, selector: app=checkout }
)";

TEST(Spec, ParamsSchema_ANegativeDurationIsExit2AtTheValue) {
  EXPECT_EQ(error_of(replace(kWithSchema, "WITHIN", "-5s")),
            "exp.yaml:6:35: params.within: expected a duration (e.g. 90s, 2m), got \"-5s\"");
  EXPECT_EQ(error_of(replace(kWithSchema, "WITHIN", "20m")),
            "exp.yaml:6:35: params.within: must be at most 10m, got \"20m\"");
  EXPECT_EQ(error_of(replace(kWithSchema, "WITHIN", "500ms")),
            "exp.yaml:6:35: params.within: must be at least 1s, got \"500ms\"");
  EXPECT_EQ(error_of(replace(kWithSchema, "WITHIN", "90s")), "");
}

TEST(Spec, ParamsSchema_RequiredAndTypes) {
  EXPECT_EQ(error_of(replace(replace(kWithSchema, "WITHIN", "90s"), "zone: zone-a, ", "")),
            "exp.yaml:8:11: params.zone: required by spec.params_schema, but not given");
  EXPECT_EQ(error_of(replace(replace(kWithSchema, "WITHIN", "90s"), "count: 2", "count: 2.5")),
            "exp.yaml:6:47: params.count: expected a whole number, got 2.5");
  EXPECT_EQ(
      error_of(replace(replace(kWithSchema, "WITHIN", "90s"), "type: duration }", "type: date }")),
      "exp.yaml:11:19: spec.params_schema.hold.type: expected string, integer, number, duration, "
      "boolean or "
      "list, got \"date\"");
}

TEST(Spec, ParamsSchema_OverridesAreCheckedAndConverted) {
  auto e = parse_experiment_text("exp.yaml", replace(kWithSchema, "WITHIN", "90s"));
  apply_param_override(e, "count=7");
  EXPECT_EQ(e.params["count"], 7);  // a number for the script, not "7"
  std::string err;
  try {
    apply_param_override(e, "count=1000");
  } catch (const InputError& ex) {
    err = ex.what();
  }
  EXPECT_EQ(err, "--param count: must be at most 100, got \"1000\"");
  EXPECT_THROW(apply_param_override(e, "within=-5s"), InputError);
}

TEST(Spec, ParamOverrideNeedsKeyEqualsValue) {
  auto e = parse_experiment_text("exp.yaml", kValid);
  apply_param_override(e, "zone=zone-b");
  EXPECT_EQ(e.params["zone"], "zone-b");
  EXPECT_THROW(apply_param_override(e, "zone"), InputError);
}

TEST(Spec, EveryShippedExperimentParses) {
  for (const char* name :
       {"zone-outage", "zone-drain", "pod-kill", "pdb-violation", "rolling-failover"}) {
    std::string path =
        std::string(faultline::test_paths::source_dir()) + "/experiments/" + name + ".yaml";
    EXPECT_NO_THROW(parse_experiment_file(path)) << path;
  }
}

}  // namespace
}  // namespace faultline::experiment
