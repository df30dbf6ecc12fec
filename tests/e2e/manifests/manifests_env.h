// Helpers for the manifests/ e2e tests: kustomize builds parsed into YAML
// documents, installing and removing the base on the local cluster, and a
// kubeconfig that authenticates as faultline's ServiceAccount.
#pragma once

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace faultline::testing::manifests {

// The identity the Job runs as (manifests/base/serviceaccount.yaml).
inline constexpr const char* kServiceAccountUser = "system:serviceaccount:faultline:faultline";

// <source tree>/<relative>.
std::string src(const std::string& relative);
// kubectl (the cluster's release) with the admin kubeconfig; the exit code,
// stdout+stderr in *output. Unlike testing::kubectl() it does not throw.
int kubectl_status(const std::string& args, std::string* output = nullptr);

// Folders (relative to the source tree) that `kubectl apply -k` must accept:
// manifests, manifests/base, every manifests/overlays/*, manifests/demo.
std::vector<std::string> kustomization_dirs();
// `kubectl kustomize <relative dir>` parsed into its documents; fails the test
// (and returns nothing) when the build fails.
std::vector<YAML::Node> kustomize(const std::string& relative_dir);
// The documents of a build with this kind (and name, if not empty).
std::vector<YAML::Node> of_kind(const std::vector<YAML::Node>& docs, const std::string& kind,
                                const std::string& name = "");
// The pod templates of every Job and CronJob in a build, by "Kind/name".
std::vector<std::pair<std::string, YAML::Node>> drill_pod_templates(
    const std::vector<YAML::Node>& docs);
// Names of the regular files in <source>/<relative dir> ending in suffix.
std::set<std::string> files_with_suffix(const std::string& relative_dir, const std::string& suffix);
std::string read_file(const std::string& path);
// A parsed YAML document as JSON, with YAML 1.2 core-schema scalars: a quoted
// scalar stays a string ("9464"), a plain one becomes a number, bool or null
// where it reads as one. (Re-emitting YAML through yaml-cpp would drop the
// quotes and turn string arguments into numbers.)
nlohmann::json to_json(const YAML::Node& node);

// `kubectl apply -k manifests/` for real (fails the test on error).
void install_base();
// Deletes everything the base installs, its namespace included, and waits
// until the namespace is gone: the state a fresh cluster is in, so the next
// test (and the runner's own ensure-namespace) starts from it.
void remove_base();

// A test that runs with the base installed for real and removes it after,
// whatever happened, so the next test starts from a cluster without it.
class InstalledBase : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(install_base()); }
  void TearDown() override { remove_base(); }
};

// Polls pred every 200ms until it holds; false (and a test failure naming
// `what`) after limit.
bool eventually(const std::function<bool()>& pred, const std::string& what,
                std::chrono::seconds limit = std::chrono::seconds(60));

// A fresh private directory under $TMPDIR, removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A kubeconfig (mode 0600) for the admin kubeconfig's server and CA that
// authenticates with `token` and nothing else: no client certificate.
std::string write_token_kubeconfig(const std::string& dir, const std::string& token);
// `s` with every occurrence of `secret` replaced, so failure messages never
// print a token.
std::string redact(std::string s, const std::string& secret);

}  // namespace faultline::testing::manifests
