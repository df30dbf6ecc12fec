// The base's RBAC against a real API server. Sufficient: the runner, holding
// nothing but a ServiceAccount token from the TokenRequest API, completes the
// shipped drills and nothing it does is forbidden. Minimal: `kubectl auth
// can-i --as` the ServiceAccount says no to everything a drill has no business
// doing, and the token itself is refused there.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "tests/e2e/cluster_env.h"
#include "tests/e2e/manifests/manifests_env.h"

namespace faultline::testing::manifests {
namespace {

namespace fs = std::filesystem;

struct Access {
  std::string verb, resource, subresource, ns;  // ns "" = cluster-wide (-A)
};

std::string describe(const Access& a) {
  return a.verb + " " + a.resource + (a.subresource.empty() ? "" : "/" + a.subresource) +
         (a.ns.empty() ? " (cluster-wide)" : " in " + a.ns);
}

// "yes" or "no" from `kubectl auth can-i ... --as=<ServiceAccount>`, or the
// whole output when it is neither (an unknown resource, an error).
std::string can_i(const Access& a) {
  std::string args = "auth can-i '" + a.verb + "' '" + a.resource + "' --as=" + kServiceAccountUser;
  if (!a.subresource.empty()) args += " --subresource=" + a.subresource;
  args += a.ns.empty() ? " --all-namespaces" : " -n " + a.ns;
  std::string out;
  kubectl_status(args, &out);  // exit 0 for yes, 1 for no: the answer is read from stdout
  std::string last;
  size_t end = out.find_last_not_of(" \n");
  if (end != std::string::npos) {
    size_t start = out.find_last_of('\n', end);
    last = out.substr(start == std::string::npos ? 0 : start + 1,
                      end + 1 - (start == std::string::npos ? 0 : start + 1));
  }
  return last == "yes" || last == "no" ? last : out;
}

TEST_F(InstalledBase, CanIRefusesWhatADrillHasNoBusinessDoing) {
  std::vector<Access> refused = {
      // No secret anywhere, not even in its own namespace.
      {"get", "secrets", "", ""},
      {"list", "secrets", "", ""},
      {"watch", "secrets", "", ""},
      {"get", "secrets", "", "faultline"},
      {"list", "secrets", "", "faultline"},
      {"get", "secrets", "", "shop"},
      // Nodes: patch only (cordon, taint); never remove or rewrite one, never its status.
      {"delete", "nodes", "", ""},
      {"create", "nodes", "", ""},
      {"update", "nodes", "", ""},
      {"update", "nodes", "status", ""},
      {"patch", "nodes", "status", ""},
      // Pods: evict or delete, never create (but its own vantage pods in
      // faultline), exec into or rewrite; no log but its vantage pods'.
      {"create", "pods", "", "shop"},
      {"create", "pods", "", ""},
      {"create", "pods", "", "kube-system"},
      {"get", "pods", "log", "shop"},
      {"get", "pods", "log", ""},
      {"create", "pods", "exec", "faultline"},
      {"update", "pods", "", "faultline"},
      {"update", "pods", "", "shop"},
      {"patch", "pods", "", "shop"},
      {"create", "pods", "exec", "shop"},
      // Workloads are read only.
      {"patch", "deployments.apps", "", "shop"},
      {"update", "deployments.apps", "", "shop"},
      {"patch", "deployments.apps", "scale", "shop"},
      {"delete", "poddisruptionbudgets.policy", "", "shop"},
      // Namespaces: only its own can be read (see rbac-namespace.yaml); none listed or made.
      {"list", "namespaces", "", ""},
      {"create", "namespaces", "", ""},
      {"delete", "namespaces", "", ""},
      // No escalation: RBAC, tokens, impersonation.
      {"create", "clusterrolebindings.rbac.authorization.k8s.io", "", ""},
      {"escalate", "clusterroles.rbac.authorization.k8s.io", "", ""},
      {"bind", "clusterroles.rbac.authorization.k8s.io", "", ""},
      {"create", "serviceaccounts", "token", "faultline"},
      {"impersonate", "users", "", ""},
      {"*", "*", "", ""},
  };
  // Its state (lock Lease, journal ConfigMaps) only in faultline.
  for (const char* ns : {"default", "kube-system", "kube-node-lease", "shop"})
    for (const char* verb : {"create", "update", "patch", "delete"})
      for (const char* resource : {"configmaps", "leases.coordination.k8s.io"})
        refused.push_back({verb, resource, "", ns});
  for (const auto& a : refused) EXPECT_EQ(can_i(a), "no") << describe(a);
}

TEST_F(InstalledBase, CanIAllowsWhatTheDrillsNeed) {
  std::vector<Access> allowed = {
      {"get", "nodes", "", ""},
      {"list", "nodes", "", ""},
      {"watch", "nodes", "", ""},
      {"patch", "nodes", "", ""},
      {"list", "pods", "", ""},
      {"watch", "pods", "", "shop"},
      {"delete", "pods", "", "shop"},
      {"create", "pods", "eviction", "shop"},
      {"list", "deployments.apps", "", "shop"},
      {"get", "replicasets.apps", "", "shop"},
      {"list", "daemonsets.apps", "", ""},
      {"list", "poddisruptionbudgets.policy", "", "shop"},
      {"watch", "endpointslices.discovery.k8s.io", "", "shop"},
      {"create", "events", "", "shop"},
      {"list", "events", "", "shop"},
      // Vantage pods (http probe from:): made, read, followed and deleted in faultline.
      {"create", "pods", "", "faultline"},
      {"get", "pods", "", "faultline"},
      {"delete", "pods", "", "faultline"},
      {"get", "pods", "log", "faultline"},
  };
  for (const char* verb : {"get", "create", "update", "delete"})
    for (const char* resource : {"configmaps", "leases.coordination.k8s.io"})
      allowed.push_back({verb, resource, "", "faultline"});
  for (const auto& a : allowed) EXPECT_EQ(can_i(a), "yes") << describe(a);
}

// A token from the TokenRequest API, kept out of every message.
class ServiceAccountToken : public InstalledBase {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(InstalledBase::SetUp());
    token_ = kubectl("create token faultline -n faultline --duration=10m");
    token_.erase(token_.find_last_not_of(" \n") + 1);
    ASSERT_EQ(std::count(token_.begin(), token_.end(), '.'), 2)
        << "`kubectl create token` did not print a JWT";
    kubeconfig_ = write_token_kubeconfig(dir_.path(), token_);
  }
  // kubectl with the ServiceAccount's kubeconfig; output redacted.
  int as_serviceaccount(const std::string& args, std::string* out) {
    int rc = run(kubectl_path() + " --kubeconfig " + kubeconfig_ + " " + args, out);
    *out = redact(*out, token_);
    return rc;
  }

  TempDir dir_;
  std::string token_, kubeconfig_;
};

TEST_F(ServiceAccountToken, AuthenticatesAsTheServiceAccountAndIsRefusedBeyondItsRules) {
  std::string out;
  ASSERT_EQ(as_serviceaccount("auth whoami -o jsonpath='{.status.userInfo.username}'", &out), 0)
      << out;
  EXPECT_EQ(out, kServiceAccountUser);

  // What it may do works with the token alone...
  EXPECT_EQ(as_serviceaccount("get nodes -o name", &out), 0) << out;
  EXPECT_EQ(as_serviceaccount("get namespace faultline -o name", &out), 0) << out;
  // ...and the rest is refused by the API server. Mutations are server-side
  // dry runs: authorization comes first, so a hole would show as success
  // without changing anything.
  for (const char* args :
       {"get secrets -n faultline", "get secrets -A", "get namespace kube-system",
        "delete node zone-a-1 --dry-run=server",
        "create configmap faultline-probe -n default --dry-run=server",
        "create configmap faultline-probe -n kube-system --dry-run=server",
        "create deployment faultline-probe -n shop --image=x --dry-run=server"}) {
    SCOPED_TRACE(args);
    EXPECT_NE(as_serviceaccount(args, &out), 0) << out;
    EXPECT_NE(out.find("forbidden: User \"" + std::string(kServiceAccountUser) + "\""),
              std::string::npos)
        << out;
  }
}

// Every shipped drill passes with the ServiceAccount's token alone, with no
// "forbidden" anywhere in its output (a refused optional read is only a
// warning, and would hide here otherwise), and leaves the cluster clean.
class ServiceAccountDrill : public ServiceAccountToken,
                            public ::testing::WithParamInterface<std::string> {};

TEST_P(ServiceAccountDrill, PassesWithTheTokenAlone) {
  ASSERT_NO_FATAL_FAILURE(deploy_demo());
  std::string reports = dir_.path() + "/reports", out;
  int rc = run(faultline_binary() + " run " + src("experiments/" + GetParam() + ".yaml") +
                   " --kubeconfig " + kubeconfig_ + " --output-dir " + reports + " --no-progress",
               &out);
  bool leaked = out.find(token_) != std::string::npos;
  out = redact(out, token_);
  EXPECT_FALSE(leaked) << "the token appears in the runner's output";
  EXPECT_EQ(rc, 0) << out;
  std::string lower = out;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  EXPECT_EQ(lower.find("forbidden"), std::string::npos)
      << "the ServiceAccount was refused something:\n"
      << out;

  auto report = nlohmann::json::parse(read_file(reports + "/report.json"));
  EXPECT_EQ(report.value("result", ""), "passed");
  EXPECT_EQ(report.value("exit_code", -1), 0);
  for (const auto& f : fs::directory_iterator(reports)) {
    if (!f.is_regular_file()) continue;
    EXPECT_EQ(read_file(f.path().string()).find(token_), std::string::npos)
        << "the token appears in " << f.path().filename();
  }
  expect_cluster_clean();
}

INSTANTIATE_TEST_SUITE_P(Shipped, ServiceAccountDrill,
                         ::testing::Values("zone-outage", "zone-drain", "pod-kill", "pdb-violation",
                                           "rolling-failover"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace faultline::testing::manifests
