// manifests/restore-drills against region-a's real API server and Velero:
// sufficient (the shipped restore drill passes with faultline's
// ServiceAccount token alone, nothing forbidden) and minimal (`auth can-i
// --as` the ServiceAccount says no beyond it, and the token is refused there).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "tests/e2e/cluster_env.h"
#include "tests/e2e/dr/dr_env.h"

namespace faultline::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kServiceAccount = "system:serviceaccount:faultline:faultline";

struct Access {
  std::string verb, resource, ns;  // ns "" = cluster-wide
};

struct DrRbac : ::testing::Test {
  std::string out = dr_state_dir() + "/out-rbac";
  std::string sa_kubeconfig = dr_state_dir() + "/a/serviceaccount.kubeconfig";
  std::string token;

  void SetUp() override {
    kubectl_in("a", "apply -k " + source_dir() + "/manifests");
    kubectl_in("a", "apply -k " + source_dir() + "/manifests/restore-drills");
    kubectl_in("a", "apply -k " + source_dir() + "/manifests/demo");
    kubectl_in("a", "rollout status deployment/checkout -n shop --timeout=120s");
    kubectl_in("a",
               "apply -f " + source_dir() + "/manifests/restore-drills/restore-data-binding.yaml");
    token = kubectl_in("a", "create token faultline -n faultline --duration=10m");
    token.erase(token.find_last_not_of(" \n") + 1);
    // region-a's kubeconfig with the token as its only credential.
    fs::copy_file(dr_state_dir() + "/a/kubeconfig", sa_kubeconfig,
                  fs::copy_options::overwrite_existing);
    const std::string kc = dr_state_dir() + "/a/bin/kubectl --kubeconfig " + sa_kubeconfig;
    std::ofstream(dr_state_dir() + "/a/token") << token;
    ASSERT_EQ(run(kc + " config set-credentials faultline-sa --token=\"$(cat " + dr_state_dir() +
                  "/a/token)\" >/dev/null && " + kc +
                  " config set-context --current --user=faultline-sa >/dev/null && rm " +
                  dr_state_dir() + "/a/token"),
              0);
  }
  void TearDown() override {
    kubectl_in("a", "delete namespace shop --ignore-not-found --wait=true --timeout=120s");
    kubectl_in("a", "delete -k " + source_dir() + "/manifests/restore-drills --ignore-not-found");
    kubectl_in("a", "delete -k " + source_dir() +
                        "/manifests --ignore-not-found --wait=true --timeout=120s");
    fs::remove(sa_kubeconfig);
    fs::remove_all(out);
  }
  std::string can_i(const Access& a) {
    std::string out;
    run(dr_state_dir() + "/a/bin/kubectl --kubeconfig " + dr_state_dir() +
            "/a/kubeconfig auth can-i '" + a.verb + "' '" + a.resource + "' --as=" +
            kServiceAccount + (a.ns.empty() ? " --all-namespaces" : " -n " + a.ns) + " 2>/dev/null",
        &out);
    out.erase(out.find_last_not_of(" \n") + 1);
    return out;
  }
  int as_serviceaccount(const std::string& args, std::string* output) {
    const int rc =
        run(dr_state_dir() + "/a/bin/kubectl --kubeconfig " + sa_kubeconfig + " " + args, output);
    for (size_t at; (at = output->find(token)) != std::string::npos;)
      output->replace(at, token.size(), "<token>");
    return rc;
  }
};

TEST_F(DrRbac, RestoreDrillPassesWithTheTokenAloneAndIsRefusedBeyondIt) {
  std::string output;
  const int rc =
      run(faultline_binary() + " run " + source_dir() +
              "/experiments/restore-drill.yaml --kubeconfig " + sa_kubeconfig +
              " --no-progress --scripts " + source_dir() + "/lua-scripts --output-dir " + out,
          &output);
  EXPECT_EQ(output.find(token), std::string::npos) << "the token appears in the runner's output";
  for (size_t at; (at = output.find(token)) != std::string::npos;)
    output.replace(at, token.size(), "<token>");
  EXPECT_EQ(rc, 0) << output;
  std::string lower = output;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  EXPECT_EQ(lower.find("forbidden"), std::string::npos) << output;
  std::ifstream in(out + "/report.json");
  const json report = json::parse(in, nullptr, false);
  EXPECT_EQ(report.value("result", ""), "passed") << output;
  EXPECT_NE(kubectl_in("a", "get deployment checkout -n shop -o name"), "");
  expect_regions_clean({"shop-restored"});

  const std::vector<Access> allowed = {
      {"create", "backups.velero.io", "velero"},
      {"watch", "backups.velero.io", "velero"},
      {"delete", "backups.velero.io", "velero"},
      {"create", "restores.velero.io", "velero"},
      {"delete", "restores.velero.io", "velero"},
      {"create", "deletebackuprequests.velero.io", "velero"},
      {"create", "downloadrequests.velero.io", "velero"},
      {"get", "schedules.velero.io", "velero"},
      {"list", "backupstoragelocations.velero.io", "velero"},
      {"get", "namespaces", ""},
      {"delete", "namespaces", ""},
      {"list", "secrets", "shop"},
  };
  for (const auto& a : allowed) EXPECT_EQ(can_i(a), "yes") << a.verb << " " << a.resource;
  const std::vector<Access> refused = {
      // Velero's configuration is read only; its objects only in its namespace.
      {"create", "schedules.velero.io", "velero"},
      {"delete", "schedules.velero.io", "velero"},
      {"update", "backupstoragelocations.velero.io", "velero"},
      {"delete", "backupstoragelocations.velero.io", "velero"},
      {"update", "backups.velero.io", "velero"},
      {"patch", "restores.velero.io", "velero"},
      {"create", "podvolumerestores.velero.io", "velero"},
      {"create", "backups.velero.io", "default"},
      {"create", "restores.velero.io", "shop"},
      // Velero's credentials are a Secret: never readable, nor any secret
      // outside a namespace bound to faultline-restore-data.
      {"get", "secrets", "velero"},
      {"list", "secrets", "velero"},
      {"list", "secrets", ""},
      {"list", "secrets", "kube-system"},
      // Namespaces: never listed, made or rewritten (Velero makes them).
      {"list", "namespaces", ""},
      {"create", "namespaces", ""},
      {"update", "namespaces", ""},
  };
  for (const auto& a : refused)
    EXPECT_EQ(can_i(a), "no") << a.verb << " " << a.resource << " in " << a.ns;
  // And the API server refuses the token itself (server-side dry runs:
  // authorization comes first, nothing changes).
  for (const char* args : {"delete backupstoragelocations.velero.io default -n velero "
                           "--dry-run=server",
                           "get secrets -n velero"}) {
    SCOPED_TRACE(args);
    EXPECT_NE(as_serviceaccount(args, &output), 0) << output;
    EXPECT_NE(output.find("forbidden: User \"" + std::string(kServiceAccount) + "\""),
              std::string::npos)
        << output;
  }
}

}  // namespace
}  // namespace faultline::testing
