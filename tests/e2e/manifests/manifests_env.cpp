#include "tests/e2e/manifests/manifests_env.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/e2e/cluster_env.h"

namespace faultline::testing::manifests {

namespace fs = std::filesystem;

std::string src(const std::string& relative) { return source_dir() + "/" + relative; }

int kubectl_status(const std::string& args, std::string* output) {
  return run(kubectl_path() + " --kubeconfig " + kubeconfig_path() + " " + args, output);
}

std::vector<std::string> kustomization_dirs() {
  std::vector<std::string> dirs = {"manifests", "manifests/base"};
  std::vector<std::string> overlays;
  for (const auto& e : fs::directory_iterator(src("manifests/overlays")))
    if (fs::exists(e.path() / "kustomization.yaml"))
      overlays.push_back("manifests/overlays/" + e.path().filename().string());
  std::sort(overlays.begin(), overlays.end());
  dirs.insert(dirs.end(), overlays.begin(), overlays.end());
  dirs.push_back("manifests/demo");
  return dirs;
}

std::vector<YAML::Node> kustomize(const std::string& relative_dir) {
  // stdout only: a warning on stderr must not end up parsed as YAML.
  TempDir tmp;
  std::string out_file = tmp.path() + "/build.yaml", log;
  int rc = run(kubectl_path() + " kustomize " + src(relative_dir) + " >" + out_file, &log);
  if (rc != 0) {
    ADD_FAILURE() << "kubectl kustomize " << relative_dir << " exited " << rc << ":\n" << log;
    return {};
  }
  std::vector<YAML::Node> docs;
  for (auto& d : YAML::LoadAllFromFile(out_file))
    if (d.IsMap()) docs.push_back(d);
  return docs;
}

std::vector<YAML::Node> of_kind(const std::vector<YAML::Node>& docs, const std::string& kind,
                                const std::string& name) {
  std::vector<YAML::Node> out;
  for (const auto& d : docs)
    if (d["kind"].as<std::string>("") == kind &&
        (name.empty() || d["metadata"]["name"].as<std::string>("") == name))
      out.push_back(d);
  return out;
}

std::vector<std::pair<std::string, YAML::Node>> drill_pod_templates(
    const std::vector<YAML::Node>& docs) {
  std::vector<std::pair<std::string, YAML::Node>> out;
  for (const auto& j : of_kind(docs, "Job"))
    out.emplace_back("Job/" + j["metadata"]["name"].as<std::string>(), j["spec"]["template"]);
  for (const auto& c : of_kind(docs, "CronJob"))
    out.emplace_back("CronJob/" + c["metadata"]["name"].as<std::string>(),
                     c["spec"]["jobTemplate"]["spec"]["template"]);
  return out;
}

std::set<std::string> files_with_suffix(const std::string& relative_dir,
                                        const std::string& suffix) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(src(relative_dir))) {
    std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.insert(name);
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

nlohmann::json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      auto out = nlohmann::json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = to_json(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      auto out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(to_json(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return s;  // quoted: a string, whatever it looks like
      static const std::regex integer("[-+]?[0-9]+"),
          real("[-+]?([0-9]*\\.[0-9]+|[0-9]+\\.[0-9]*)([eE][-+]?[0-9]+)?");
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
      if (s == "null" || s == "Null" || s == "NULL" || s == "~") return nullptr;
      if (std::regex_match(s, integer)) return std::stoll(s);
      if (std::regex_match(s, real)) return std::stod(s);
      return s;
    }
    default:
      return nullptr;
  }
}

void install_base() {
  std::string out;
  int rc = kubectl_status("apply -k " + src("manifests"), &out);
  ASSERT_EQ(rc, 0) << "kubectl apply -k manifests/ failed:\n" << out;
}

void remove_base() {
  std::string out;
  // --wait: kubectl returns once the objects (the Namespace last of all, after
  // the namespace controller emptied it) are gone. A namespace still
  // Terminating would refuse the next test's Lease and journal.
  int rc = kubectl_status(
      "delete -k " + src("manifests") + " --ignore-not-found --wait=true --timeout=120s", &out);
  ASSERT_EQ(rc, 0) << "kubectl delete -k manifests/ failed:\n" << out;
  eventually([] { return kubectl_status("get namespace faultline") != 0; },
             "namespace faultline to be deleted");
}

bool eventually(const std::function<bool()>& pred, const std::string& what,
                std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ADD_FAILURE() << "timed out after " << limit.count() << "s waiting for " << what;
  return false;
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "faultline-manifests-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string write_token_kubeconfig(const std::string& dir, const std::string& token) {
  // --minify --flatten: the current context's cluster only, its CA inline
  // whether the admin kubeconfig names a file or embeds it.
  auto field = [](const std::string& jsonpath) {
    return kubectl("config view --raw --minify --flatten -o jsonpath='{.clusters[0].cluster." +
                   jsonpath + "}'");
  };
  std::string server = field("server");
  std::string ca = field("certificate-authority-data");
  if (server.empty() || ca.empty())
    throw std::runtime_error("the admin kubeconfig has no server or CA data");
  YAML::Node kc;
  kc["apiVersion"] = "v1";
  kc["kind"] = "Config";
  YAML::Node cluster;
  cluster["name"] = "local";
  cluster["cluster"]["server"] = server;
  cluster["cluster"]["certificate-authority-data"] = ca;
  kc["clusters"].push_back(cluster);
  YAML::Node user;
  user["name"] = "faultline-serviceaccount";
  user["user"]["token"] = token;
  kc["users"].push_back(user);
  YAML::Node context;
  context["name"] = "faultline";
  context["context"]["cluster"] = "local";
  context["context"]["user"] = "faultline-serviceaccount";
  kc["contexts"].push_back(context);
  kc["current-context"] = "faultline";

  std::string path = dir + "/serviceaccount.kubeconfig";
  {
    // Created 0600 before the token is written into it.
    std::ofstream create(path);
  }
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  std::ofstream out(path, std::ios::trunc);
  out << YAML::Dump(kc) << "\n";
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
  return path;
}

std::string redact(std::string s, const std::string& secret) {
  if (secret.empty()) return s;
  for (size_t at = s.find(secret); at != std::string::npos; at = s.find(secret, at))
    s.replace(at, secret.size(), "<token>");
  return s;
}

}  // namespace faultline::testing::manifests
