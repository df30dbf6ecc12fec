// Exec credential plugins (client.authentication.k8s.io/v1 and v1beta1), the
// way EKS (aws eks get-token), GKE (gke-gcloud-auth-plugin) and AKS
// (kubelogin) hand out tokens.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "runner/kube/config.h"

namespace faultline::kube {

struct ExecCredential {
  std::string token;
  std::string client_cert_pem;  // PEM, as ExecCredential carries it
  std::string client_key_pem;
  std::optional<std::chrono::system_clock::time_point> expires;  // none: valid until a 401
};

// Runs the plugin (stdin is the terminal only when interactiveMode allows and
// one is attached; stderr passes through so its prompts and errors are seen)
// and parses what it prints. Throws InputError when the program cannot be
// started, ApiError(Unauthorized) when it fails, hangs past `timeout`, or
// prints something that is not an ExecCredential. Messages never include the
// plugin's output.
ExecCredential run_exec_plugin(const ExecConfig& exec,
                               std::chrono::seconds timeout = std::chrono::seconds(120));

ExecCredential parse_exec_credential(const std::string& output, const ExecConfig& exec);

// "2024-05-01T10:00:00Z", "2024-05-01T10:00:00.5+02:00". nullopt if invalid.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace faultline::kube
