// The credentials a request carries, kept fresh: a token file re-read when it
// changes (bound service-account tokens rotate), an exec plugin re-run when
// its credential expires, and both refreshed after a 401.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "runner/kube/config.h"
#include "runner/kube/exec_credential.h"

namespace faultline::kube {

class Credentials {
 public:
  explicit Credentials(const ClientConfig& config);

  struct Auth {
    std::string bearer;                           // "" when the request carries no token
    std::string client_cert_pem, client_key_pem;  // from an exec plugin; "" otherwise
  };
  // Thread-safe; runs an exec plugin at most once at a time, and never
  // makes a caller wait for it when a credential is already at hand.
  Auth current();
  // After a 401: forget the exec credential and re-read the token file, so
  // the next current() fetches fresh ones. Returns false when nothing can
  // be refreshed (a fixed token or a client certificate).
  bool invalidate();
  // Every token handed out so far (recent ones), to scrub from messages.
  std::vector<std::string> secrets() const;

 private:
  struct Stamp {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;
    long long mtime_ns = -1;
    bool operator==(const Stamp&) const = default;
  };
  void remember(const std::string& secret);
  std::string read_token_file();
  Auth exec_auth();
  Auth from_exec_locked() const;
  bool exec_fresh_locked() const;

  const std::string token_, token_file_;
  const std::optional<ExecConfig> exec_;
  mutable std::mutex mu_;
  std::mutex refresh_mu_;    // held while the exec plugin runs (never with mu_)
  bool exec_stale_ = false;  // after a 401: re-run the plugin, keep the old one meanwhile
  Stamp stamp_;
  std::string file_token_;
  std::optional<ExecCredential> exec_cred_;
  std::vector<std::string> secrets_;
};

}  // namespace faultline::kube
