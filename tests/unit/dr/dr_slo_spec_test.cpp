// spec.dr and the rto / rpo / restore_complete SLOs, parsed strictly and
// judged on a drill's record.
#include <gtest/gtest.h>

#include "runner/common/error.h"
#include "runner/common/yaml_reader.h"
#include "runner/dr/dr_spec.h"
#include "runner/slo/evaluate.h"
#include "runner/slo/slo_spec.h"

namespace faultline {
namespace {

using nlohmann::json;

slo::SloSpec slo_of(const std::string& yaml) {
  return slo::parse_slo(YamlReader::load_text("x.yaml", yaml));
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(DrSlo, RtoAndRpoAgainstTheirBounds) {
  const auto rto = slo_of("rto: { max: 5m }");
  EXPECT_TRUE(rto.dr());
  EXPECT_FALSE(rto.steady_state());
  auto r = slo::evaluate_dr(rto, {{"rto_s", 42.5}});
  EXPECT_TRUE(r.passed);
  EXPECT_EQ(r.name, "rto");
  EXPECT_FALSE(slo::evaluate_dr(rto, {{"rto_s", 301.0}}).passed);
  const auto rpo = slo_of("rpo: { max: 1h }");
  EXPECT_TRUE(slo::evaluate_dr(rpo, {{"rpo_s", 3599.0}}).passed);
  EXPECT_FALSE(slo::evaluate_dr(rpo, {{"rpo_s", 3601.0}}).passed);
}

TEST(DrSlo, RtoNotMeasuredFailsWithTheRestoresReason) {
  const auto r = slo::evaluate_dr(slo_of("rto: { max: 5m }"),
                                  {{"restores",
                                    {{{"name", "r1"},
                                      {"namespace", "shop-restored"},
                                      {"reason", "data check failed: Secret/db missing"}}}}});
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.measured_text, "not measured");
  EXPECT_EQ(r.detail, "restore r1 into shop-restored: data check failed: Secret/db missing");
  EXPECT_FALSE(slo::evaluate_dr(slo_of("rto: { max: 5m }"), json()).passed);  // no drill
}

TEST(DrSlo, RestoreCompleteCountsWarningsButNotKubeRootCa) {
  const auto spec = slo_of("restore_complete: {}");
  const json noise = {
      {"restores",
       {{{"name", "r1"},
         {"phase", "Completed"},
         {"errors", 0},
         {"warnings", 1},
         {"warning_messages",
          {"shop: could not restore, ConfigMap:kube-root-ca.crt already exists. Warning: the "
           "in-cluster version is different than the backed-up version"}}}}}};
  EXPECT_TRUE(slo::evaluate_dr(spec, noise).passed);
  json real = noise;
  real["restores"][0]["warning_messages"].push_back(
      "shop: could not restore, Service:api already exists");
  real["restores"][0]["warnings"] = 2;
  const auto r = slo::evaluate_dr(spec, real);
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.detail, "restore r1: Completed, 0 error(s), 1 warning(s)");
  EXPECT_TRUE(slo::evaluate_dr(slo_of("restore_complete: { accept_warnings: 1 }"), real).passed);
  json failed = noise;
  failed["restores"][0]["phase"] = "PartiallyFailed";
  EXPECT_FALSE(slo::evaluate_dr(spec, failed).passed);
  EXPECT_FALSE(slo::evaluate_dr(spec, {{"restores", json::array()}}).passed);
}

TEST(DrSlo, BadBoundIsFileLineCol) {
  EXPECT_EQ(error_of([] { slo_of("rto: { within: 5m }"); }).rfind("x.yaml:1:", 0), 0u);
}

TEST(DrSpec, ClustersBackupsAndStrictKeys) {
  const auto spec = dr::parse_dr_spec(
      YamlReader::load_text("e.yaml",
                            "clusters: { dr-region: { context: region-b } }\nbackups: [ { name: "
                            "nightly, cluster: dr-region } ]\n"));
  ASSERT_EQ(spec.clusters.size(), 1u);
  EXPECT_EQ(spec.clusters[0].context, "region-b");
  EXPECT_EQ(spec.clusters[0].where.at("m"), "e.yaml:1:35: m");
  ASSERT_EQ(spec.backups.size(), 1u);
  EXPECT_EQ(spec.backups[0].cluster, "dr-region");
  EXPECT_EQ(error_of([] {
              dr::parse_dr_spec(YamlReader::load_text("e.yaml", "cluster: {}\n"));
            }).rfind("e.yaml:1:", 0),
            0u);
  EXPECT_NE(error_of([] {
              dr::parse_dr_spec(
                  YamlReader::load_text("e.yaml", "backups: [ { name: b, cluster: mars } ]\n"));
            }).find("\"mars\" is not one of spec.dr.clusters"),
            std::string::npos);
}

}  // namespace
}  // namespace faultline
