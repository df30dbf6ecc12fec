// `kubectl apply -k manifests/` on a real API server: installing runs nothing
// (the Job and CronJob are suspended), and every drill pod the base and the
// overlays would start is admitted by the "restricted" Pod Security Standard
// that the base's namespace enforces.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/e2e/cluster_env.h"
#include "tests/e2e/manifests/manifests_env.h"

namespace faultline::testing::manifests {
namespace {

std::string jsonpath(const std::string& object, const std::string& path) {
  return kubectl("get " + object + " -n faultline -o jsonpath='" + path + "'");
}

TEST_F(InstalledBase, JobAndCronJobAreSuspendedAndStartNothing) {
  EXPECT_EQ(jsonpath("job/faultline-drill", "{.spec.suspend}"), "true");
  EXPECT_EQ(jsonpath("cronjob/faultline-scheduled-drill", "{.spec.suspend}"), "true");
  // The Job controller has seen the Job and recorded that it holds it
  // suspended: from here on, no pod would appear later either.
  eventually(
      [] {
        return jsonpath("job/faultline-drill",
                        "{.status.conditions[?(@.type==\"Suspended\")].status}") == "True";
      },
      "the Job controller to mark faultline-drill Suspended");
  EXPECT_EQ(jsonpath("job/faultline-drill", "{.status.active}"), "");
  EXPECT_EQ(jsonpath("cronjob/faultline-scheduled-drill", "{.status.lastScheduleTime}"), "");
  EXPECT_EQ(kubectl("get pods -n faultline -o name"), "") << "installing the base started a pod";

  // Removing it leaves no Job or CronJob anywhere.
  remove_base();
  EXPECT_EQ(kubectl("get jobs,cronjobs -A -l app.kubernetes.io/name=faultline -o name"), "");
}

TEST_F(InstalledBase, EveryDrillPodIsAdmittedUnderTheRestrictedPodSecurityStandard) {
  EXPECT_EQ(kubectl("get namespace faultline -o "
                    "jsonpath='{.metadata.labels.pod-security\\.kubernetes\\.io/enforce}'"),
            "restricted");
  TempDir tmp;
  auto dry_run_pod = [&](const std::string& name, const YAML::Node& spec, std::string* out) {
    nlohmann::json pod = {{"apiVersion", "v1"},
                          {"kind", "Pod"},
                          {"metadata", {{"name", name}, {"namespace", "faultline"}}},
                          {"spec", to_json(spec)}};
    std::string file = tmp.path() + "/" + name + ".json";
    std::ofstream(file) << pod.dump(2) << "\n";
    return kubectl_status("create --dry-run=server -f " + file, out);
  };

  int checked = 0;
  for (const auto& dir : kustomization_dirs()) {
    if (dir == "manifests/demo") continue;
    for (const auto& [what, tmpl] : drill_pod_templates(kustomize(dir))) {
      SCOPED_TRACE(dir + " " + what);
      std::string out;
      EXPECT_EQ(dry_run_pod("pss-check-" + std::to_string(checked++), tmpl["spec"], &out), 0)
          << "the pod of " << what << " in " << dir << " is refused in namespace faultline:\n"
          << out;
    }
  }
  EXPECT_GE(checked, 2) << "expected at least the base's Job and CronJob";

  // The control: the same namespace refuses a pod that drops the hardening,
  // so the admissions above were decided by the standard, not waved through.
  auto weakened = YAML::Clone(drill_pod_templates(kustomize("manifests"))[0].second["spec"]);
  weakened["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = true;
  weakened["containers"][0]["securityContext"]["capabilities"]["add"].push_back("NET_ADMIN");
  std::string out;
  EXPECT_NE(dry_run_pod("pss-check-weakened", weakened, &out), 0) << out;
  EXPECT_NE(out.find("violates PodSecurity \"restricted"), std::string::npos) << out;
}

}  // namespace
}  // namespace faultline::testing::manifests
