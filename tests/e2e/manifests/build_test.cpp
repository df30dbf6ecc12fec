// manifests/ builds with the cluster's own kubectl (kustomize v5 inside it),
// the generated ConfigMaps carry every shipped experiment and Lua script, and
// the API server accepts the base and every overlay in a server-side dry run.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "runner/experiment/runner.h"
#include "tests/e2e/cluster_env.h"
#include "tests/e2e/manifests/manifests_env.h"

namespace faultline::testing::manifests {
namespace {

std::set<std::string> data_keys(const YAML::Node& config_map) {
  std::set<std::string> keys;
  for (const auto& kv : config_map["data"]) keys.insert(kv.first.as<std::string>());
  return keys;
}

// SIGTERM, then SIGKILL after terminationGracePeriodSeconds: the runner's
// script grace (3 s) + rollback deadline + time for the reports must fit.
TEST(ManifestsBuild, GracePeriodCoversTheRollbackDeadline) {
  for (const char* file : {"manifests/base/job.yaml", "manifests/base/cronjob.yaml"}) {
    std::ifstream in(source_dir() + "/" + file);
    std::stringstream text;
    text << in.rdbuf();
    std::smatch m;
    std::string yaml = text.str();
    ASSERT_TRUE(std::regex_search(yaml, m, std::regex("terminationGracePeriodSeconds: (\\d+)"))) << file;
    EXPECT_GE(std::stoi(m[1]), experiment::kRollbackDeadline.count() + 3 + 20) << file;
  }
}

TEST(ManifestsBuild, EveryKustomizationBuildsWithTheClustersKubectl) {
  for (const auto& dir : kustomization_dirs()) {
    SCOPED_TRACE(dir);
    auto docs = kustomize(dir);
    EXPECT_FALSE(docs.empty()) << "kubectl kustomize " << dir << " produced no objects";
    for (const auto& d : docs) {
      EXPECT_FALSE(d["kind"].as<std::string>("").empty()) << "an object without kind in " << dir;
      EXPECT_FALSE(d["metadata"]["name"].as<std::string>("").empty())
          << "an object without name in " << dir;
    }
  }
  // manifests/ is documented as exactly the base (manifests/README.md).
  auto dump = [](const std::vector<YAML::Node>& docs) {
    std::string all;
    for (const auto& d : docs) all += YAML::Dump(d) + "\n---\n";
    return all;
  };
  EXPECT_EQ(dump(kustomize("manifests")), dump(kustomize("manifests/base")));
}

// kustomize generators take no globs: a new experiments/*.yaml or
// lua-scripts/*.lua not listed in its folder's Kustomization is silently
// missing from the Job's mounts. This is the check that catches it.
TEST(ManifestsBuild, GeneratedConfigMapsPackEveryExperimentAndScript) {
  auto docs = kustomize("manifests");
  ASSERT_FALSE(docs.empty());
  struct Packed {
    const char* config_map;
    const char* dir;
    const char* suffix;
  };
  for (const Packed& p : {Packed{"faultline-experiments", "experiments", ".yaml"},
                          Packed{"faultline-lua-scripts", "lua-scripts", ".lua"}}) {
    SCOPED_TRACE(p.config_map);
    auto found = of_kind(docs, "ConfigMap", p.config_map);
    ASSERT_EQ(found.size(), 1u) << "no ConfigMap " << p.config_map
                                << " in kubectl kustomize manifests/";
    const auto& cm = found[0];
    auto files = files_with_suffix(p.dir, p.suffix);
    ASSERT_FALSE(files.empty()) << "no " << p.dir << "/*" << p.suffix;
    for (const auto& f : files)
      EXPECT_TRUE(data_keys(cm).count(f))
          << p.dir << "/" << f << " is not in ConfigMap " << p.config_map << ": add it to " << p.dir
          << "/Kustomization";
    for (const auto& key : data_keys(cm)) {
      EXPECT_TRUE(files.count(key)) << "ConfigMap " << p.config_map << " has " << key
                                    << ", which is not a file of " << p.dir << "/*" << p.suffix;
      if (files.count(key)) {
        EXPECT_EQ(cm["data"][key].as<std::string>(), read_file(src(std::string(p.dir) + "/" + key)))
            << p.config_map << "[" << key << "] differs from the file";
      }
    }
    // A stable name: the Job's pod template mounts it by this exact name.
    EXPECT_EQ(cm["metadata"]["namespace"].as<std::string>(""), "faultline");
  }
}

// Every drill the manifests start (the base's Job and CronJob, each overlay's)
// names an experiment that its build packs, and that experiment's script is
// packed too: a renamed experiment or script fails here, not in the cluster.
TEST(ManifestsBuild, EveryDrillRunsAPackedExperimentWithAPackedScript) {
  const std::regex experiment_path("^/etc/faultline/experiments/(.+)$");
  for (const auto& dir : kustomization_dirs()) {
    if (dir == "manifests/demo") continue;  // the app under test, no drill
    SCOPED_TRACE(dir);
    auto docs = kustomize(dir);
    auto experiments = of_kind(docs, "ConfigMap", "faultline-experiments");
    auto scripts = of_kind(docs, "ConfigMap", "faultline-lua-scripts");
    ASSERT_EQ(experiments.size(), 1u);
    ASSERT_EQ(scripts.size(), 1u);
    auto drills = drill_pod_templates(docs);
    ASSERT_FALSE(drills.empty()) << dir << " has no Job or CronJob";
    for (const auto& [what, tmpl] : drills) {
      int named = 0;
      for (const auto& c : tmpl["spec"]["containers"])
        for (const auto& a : c["args"]) {
          std::smatch m;
          std::string arg = a.as<std::string>();
          if (!std::regex_match(arg, m, experiment_path)) continue;
          ++named;
          std::string file = m[1];
          ASSERT_TRUE(experiments[0]["data"][file])
              << what << " runs " << arg << ", which " << dir << " does not pack";
          auto spec = YAML::Load(experiments[0]["data"][file].as<std::string>());
          std::string script = spec["spec"]["script"].as<std::string>("");
          EXPECT_TRUE(scripts[0]["data"][script])
              << file << " names script " << script << ", not packed by " << dir;
        }
      EXPECT_EQ(named, 1) << what << " in " << dir
                          << " should run exactly one /etc/faultline/experiments/ file";
    }
  }
}

// A server-side dry run goes through authentication, validation and
// admission, and persists nothing. That includes the Namespace, so the
// namespaced objects of the same apply are refused by the NamespaceLifecycle
// admission plugin ("namespaces \"faultline\" not found"): each build's
// namespaces are created for real first (as manifests/README.md says), and
// those this test created are removed after.
TEST(ManifestsServer, BaseOverlaysAndDemoPassAServerSideDryRun) {
  ASSERT_NO_FATAL_FAILURE(remove_base());  // a known start: no namespace, no Job
  std::vector<std::string> created;
  for (const auto& dir : kustomization_dirs()) {
    SCOPED_TRACE(dir);
    auto docs = kustomize(dir);
    for (const auto& ns : of_kind(docs, "Namespace")) {
      std::string name = ns["metadata"]["name"].as<std::string>();
      if (kubectl_status("get namespace " + name) == 0) continue;
      kubectl("create namespace " + name);
      created.push_back(name);
    }
    size_t objects = docs.size();
    std::string out;
    int rc = kubectl_status("apply --server-side --dry-run=server -k " + src(dir), &out);
    EXPECT_EQ(rc, 0) << "server-side dry run of " << dir << " refused:\n" << out;
    size_t accepted = 0;
    for (size_t at = out.find("(server dry run)"); at != std::string::npos;
         at = out.find("(server dry run)", at + 1))
      ++accepted;
    EXPECT_EQ(accepted, objects) << "not every object of " << dir << " was accepted:\n" << out;
  }
  // Nothing was persisted: the base's Job and ConfigMaps are still absent.
  std::string out;
  EXPECT_NE(kubectl_status("get job faultline-drill -n faultline", &out), 0) << out;
  EXPECT_NE(kubectl_status("get configmap faultline-experiments -n faultline", &out), 0) << out;
  remove_base();
  for (const auto& ns : created)
    if (ns != "faultline")
      kubectl("delete namespace " + ns + " --ignore-not-found --wait=true --timeout=120s");
}

}  // namespace
}  // namespace faultline::testing::manifests
