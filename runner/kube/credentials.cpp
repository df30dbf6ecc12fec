#include "runner/kube/credentials.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "runner/common/log.h"
#include "runner/kube/errors.h"

namespace faultline::kube {
namespace {

std::string trim(std::string s) {
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
  return s.substr(i);
}

}  // namespace

Credentials::Credentials(const ClientConfig& config)
    : token_(config.token), token_file_(config.token_file), exec_(config.exec) {
  if (!token_.empty()) remember(token_);
}

void Credentials::remember(const std::string& secret) {
  if (secret.size() < 4) return;  // scrubbing a 1-3 character string would mangle messages
  for (const auto& s : secrets_)
    if (s == secret) return;
  secrets_.push_back(secret);
  if (secrets_.size() > 8) secrets_.erase(secrets_.begin());
}

// Called with mu_ held. Re-reads only when the file changed: a stat per
// request is cheap, a read is not needed. Kubelet swaps the projected token
// with a symlink rename, which changes the inode; editors change mtime/size.
std::string Credentials::read_token_file() {
  struct stat st {};
  if (::stat(token_file_.c_str(), &st) != 0) {
    if (!file_token_.empty()) {
      log::warn("token file " + token_file_ + ": " + std::strerror(errno) +
                "; keeping the last token read");
      return file_token_;
    }
    throw ApiError(ApiError::Kind::Unauthorized, 0, "", "", "",
                   "cannot read token file " + token_file_ + ": " + std::strerror(errno));
  }
  Stamp now{st.st_dev, st.st_ino, st.st_size,
            static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec};
  if (now == stamp_ && !file_token_.empty()) return file_token_;
  std::ifstream in(token_file_, std::ios::binary);
  std::stringstream text;
  if (in) text << in.rdbuf();
  auto token = trim(text.str());
  if (!in || token.empty()) {
    if (!file_token_.empty()) return file_token_;  // mid-rotation: keep the last good one
    throw ApiError(ApiError::Kind::Unauthorized, 0, "", "", "",
                   "token file " + token_file_ + " is empty or unreadable");
  }
  stamp_ = now;
  file_token_ = token;
  remember(token);
  return file_token_;
}

Credentials::Auth Credentials::from_exec_locked() const {
  Auth auth;
  auth.bearer = exec_cred_->token;
  auth.client_cert_pem = exec_cred_->client_cert_pem;
  auth.client_key_pem = exec_cred_->client_key_pem;
  return auth;
}

bool Credentials::exec_fresh_locked() const {
  return exec_cred_ && !exec_stale_ &&
         !(exec_cred_->expires && std::chrono::system_clock::now() >= *exec_cred_->expires);
}

// The plugin runs without mu_ held and at most once at a time (refresh_mu_).
// While it runs, other threads keep using the credential we already have,
// even an expired one (the server answers 401 at worst): a slow or hung
// plugin must not block every request — above all not the renewal of the
// drill lock, whose lease would expire under a live drill.
Credentials::Auth Credentials::exec_auth() {
  {
    std::lock_guard lock(mu_);
    if (exec_fresh_locked()) return from_exec_locked();
  }
  std::unique_lock refresh(refresh_mu_, std::try_to_lock);
  if (!refresh.owns_lock()) {
    {
      std::lock_guard lock(mu_);
      if (exec_cred_) return from_exec_locked();
    }
    refresh.lock();  // nothing to fall back on: wait for the plugin
  }
  {
    std::lock_guard lock(mu_);
    if (exec_fresh_locked()) return from_exec_locked();  // refreshed while we waited
  }
  ExecCredential fresh = run_exec_plugin(*exec_);
  std::lock_guard lock(mu_);
  exec_cred_ = std::move(fresh);
  exec_stale_ = false;
  remember(exec_cred_->token);
  return from_exec_locked();
}

Credentials::Auth Credentials::current() {
  if (exec_ && token_file_.empty()) return exec_auth();
  std::lock_guard lock(mu_);
  Auth auth;
  if (!token_file_.empty()) {
    auth.bearer = read_token_file();
  } else {
    auth.bearer = token_;
  }
  return auth;
}

bool Credentials::invalidate() {
  std::lock_guard lock(mu_);
  if (!token_file_.empty()) {
    stamp_ = Stamp{};  // force a re-read even if the stamp did not change
    return true;
  }
  if (exec_) {
    exec_stale_ = true;  // kept as the fallback while the plugin re-runs
    return true;
  }
  return false;
}

std::vector<std::string> Credentials::secrets() const {
  std::lock_guard lock(mu_);
  return secrets_;
}

}  // namespace faultline::kube
