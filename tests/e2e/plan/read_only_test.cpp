// `faultline plan` never writes: it runs with a ServiceAccount token that may
// only get/list/watch, answers, and leaves the cluster as it was. Any write
// it tried would be refused (403) and end the plan with exit 4; exit 0 with
// this token is the proof, and the cluster is compared before and after.
#include <gtest/gtest.h>

#include "tests/e2e/cluster_env.h"
#include "tests/e2e/manifests/manifests_env.h"
#include "tests/e2e/plan/plan_env.h"

namespace faultline::testing {
namespace {

const char* kReader = R"(apiVersion: v1
kind: ServiceAccount
metadata: { name: plan-reader, namespace: plan-e2e }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: faultline-plan-reader }
rules:
  - { apiGroups: ["*"], resources: ["*"], verbs: [get, list, watch] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: faultline-plan-reader }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: faultline-plan-reader }
subjects: [{ kind: ServiceAccount, name: plan-reader, namespace: plan-e2e }]
)";

std::string everything_versions() {
  // The resourceVersion of every object a drill writes; nodes are compared
  // by snapshot_nodes (their status has heartbeats of its own), and the
  // leader-election Leases of kube-system renew by themselves.
  return kubectl(
      "get pods,pdb,configmaps,leases.coordination.k8s.io,deployments,replicasets -A "
      "-o jsonpath='{range "
      ".items[*]}{.kind}/{.metadata.namespace}/"
      "{.metadata.name}={.metadata.resourceVersion}{\"\\n\"}{end}'"
      " --field-selector=metadata.namespace!=kube-node-lease,metadata.namespace!=kube-system");
}

TEST(PlanReadOnly, WorksWithAGetListWatchTokenAndTouchesNothing) {
  fresh_demo();
  apply("apiVersion: v1\nkind: Namespace\nmetadata: { name: plan-e2e }\n");
  apply(kReader);
  const std::string user = "system:serviceaccount:plan-e2e:plan-reader";
  for (const char* verb : {"create", "update", "patch", "delete"})
    EXPECT_EQ(kubectl(std::string("auth can-i ") + verb + " pods --as=" + user + " -A || true"),
              "no\n")
        << verb;
  std::string token = kubectl("create token plan-reader -n plan-e2e --duration=10m");
  token.erase(token.find_last_not_of(" \n") + 1);
  manifests::TempDir dir;
  std::string kubeconfig = manifests::write_token_kubeconfig(dir.path(), token);

  auto nodes = snapshot_nodes();
  std::string before = everything_versions();
  int code = -1;
  json plan = plan_json(source_dir() + "/experiments/zone-outage.yaml", &code, kubeconfig);
  ASSERT_TRUE(plan.is_object());
  EXPECT_EQ(code, 0) << manifests::redact(plan.dump(2), token);
  EXPECT_EQ(plan["verdict"], "pass");
  EXPECT_EQ(plan["ready_endpoints"]["min"], 4);
  EXPECT_EQ(everything_versions(), before) << "an object changed while plan ran";
  // The control: with the same token a real run, which must write (its
  // lock Lease first), is refused and exits 4 — so a write attempted by
  // plan could not have gone unnoticed.
  std::string out;
  int run_code = run(faultline_binary() + " run " + source_dir() + "/experiments/zone-outage.yaml --kubeconfig " +
                         kubeconfig + " --no-progress --output-dir " + dir.path() + "/run",
                     &out);
  EXPECT_EQ(run_code, 4) << manifests::redact(out, token);
  EXPECT_NE(out.find("forbidden"), std::string::npos) << manifests::redact(out, token);
  expect_cluster_as_before(nodes);
  kubectl("delete clusterrolebinding faultline-plan-reader");
  kubectl("delete clusterrole faultline-plan-reader");
}

}  // namespace
}  // namespace faultline::testing
