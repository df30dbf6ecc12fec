// In-cluster configuration from the pod's service account, as client-go's
// rest.InClusterConfig does.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runner/common/error.h"
#include "runner/kube/config.h"

namespace faultline::kube {
namespace {

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

ClientConfig in_cluster_config(const std::string& root_arg) {
  const std::string root =
      root_arg.empty() ? "/var/run/secrets/kubernetes.io/serviceaccount" : root_arg;
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port)
    throw InputError(
        "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set "
        "(expected to run in a pod)");

  ClientConfig c;
  c.context_name = "in-cluster";
  c.cluster_name = "in-cluster";
  std::string h = host;
  if (h.find(':') != std::string::npos && h.front() != '[') h = "[" + h + "]";  // IPv6
  c.server = "https://" + h + ":" + port;

  c.token_file = root + "/token";
  if (!std::filesystem::exists(c.token_file))
    throw InputError(c.token_file +
                     ": service account token is missing (expected a mounted token; is "
                     "automountServiceAccountToken false?)");
  auto ca = read_text(root + "/ca.crt");
  if (!ca) throw InputError(root + "/ca.crt: cannot read the cluster CA (expected a PEM file)");
  if (ca->find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    throw InputError(root + "/ca.crt: expected a PEM certificate");
  c.ca_pem = *ca;
  if (auto ns = read_text(root + "/namespace"); ns && !trim(*ns).empty())
    c.default_namespace = trim(*ns);
  return c;
}

}  // namespace faultline::kube
