// Where to reach the API server and how to authenticate: from kubeconfig
// (kubectl's rules) or from the in-cluster service account.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace faultline::kube {

struct ExecConfig {  // client.authentication.k8s.io/v1 and v1beta1
  std::string api_version;
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string interactive_mode;  // Never | IfAvailable | Always
  std::string source;            // "kubeconfig file:user name", for messages
};

struct ClientConfig {
  std::string server;        // https://host:port
  std::string context_name;  // for reports
  std::string cluster_name;
  std::string default_namespace = "default";

  // TLS
  std::string ca_pem;  // from certificate-authority(-data); empty: system CAs
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
  std::string proxy_url;

  // Credentials (at most one of token / token_file / exec; client cert can combine).
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string token;
  std::string token_file;  // re-read when it changes (rotated bound tokens)
  std::optional<ExecConfig> exec;

  // Behaviour
  double qps = 100;  // client-side rate limit (token bucket)
  int burst = 200;
  int max_concurrency = 32;  // fan-out bound for bulk operations
  std::chrono::milliseconds request_timeout{30000};
  int max_retries = 5;  // for idempotent requests
  std::string user_agent = "faultline";
};

struct LoadOptions {
  std::string kubeconfig;          // --kubeconfig; else $KUBECONFIG; else ~/.kube/config
  std::string context;             // --context
  std::string namespace_override;  // -n
  bool allow_in_cluster = true;    // fall back to the service account when no kubeconfig exists
};

// Throws faultline::InputError naming the file, the field and what was
// expected when the configuration is missing or malformed.
ClientConfig load_config(const LoadOptions& options);
ClientConfig load_kubeconfig(const std::vector<std::string>& files, const std::string& context);
// root defaults to /var/run/secrets/kubernetes.io/serviceaccount (tests pass another).
ClientConfig in_cluster_config(const std::string& root = "");

}  // namespace faultline::kube
