#include "runner/kube/exec_credential.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <vector>

#include "runner/common/error.h"
#include "runner/kube/errors.h"

extern char** environ;

namespace faultline::kube {
namespace {

using Clock = std::chrono::steady_clock;

std::string label(const ExecConfig& exec) {
  return "exec plugin \"" + exec.command + "\" (" + exec.source + ")";
}

[[noreturn]] void fail(const ExecConfig& exec, const std::string& why) {
  throw ApiError(ApiError::Kind::Unauthorized, 0, "", "", "", label(exec) + ": " + why);
}

// Closes a file descriptor on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

int digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':')
    return std::nullopt;
  std::tm tm{};
  int year = digits(s, 0, 4), mon = digits(s, 5, 2), day = digits(s, 8, 2);
  int hour = digits(s, 11, 2), min = digits(s, 14, 2), sec = digits(s, 17, 2);
  if (year < 0 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || min < 0 ||
      min > 59 || sec < 0 || sec > 60)
    return std::nullopt;
  size_t pos = 19;
  std::chrono::nanoseconds frac{0};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    long long scale = 100000000, n = 0;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (scale > 0) n += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
    frac = std::chrono::nanoseconds(n);
  }
  long offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
    int oh = digits(s, pos + 1, 2), om = digits(s, pos + 4, 2);
    if (oh < 0 || om < 0) return std::nullopt;
    offset = (oh * 3600L + om * 60L) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  time_t t = timegm(&tm) - offset;
  // system_clock counts nanoseconds in 64 bits: it ends in 2262. A plugin
  // saying "valid until 2999" means "for ever", not an overflow into the past.
  using Clock = std::chrono::system_clock;
  constexpr long long kLastSecond =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::duration::max()).count() - 1;
  if (t >= kLastSecond) return Clock::time_point::max();
  return Clock::from_time_t(t) + std::chrono::duration_cast<Clock::duration>(frac);
}

ExecCredential parse_exec_credential(const std::string& output, const ExecConfig& exec) {
  // nlohmann's parse errors quote the input: never show them (a token).
  auto doc = nlohmann::json::parse(output, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) fail(exec, "output is not a JSON ExecCredential");
  if (doc.value("kind", "") != "ExecCredential")
    fail(exec, "output has kind \"" + doc.value("kind", "") + "\" (expected ExecCredential)");
  auto version = doc.value("apiVersion", "");
  if (version != exec.api_version)
    fail(exec, "output has apiVersion \"" + version + "\" (expected " + exec.api_version + ")");
  if (!doc.contains("status") || !doc["status"].is_object())
    fail(exec, "output has no status (expected status.token or a client certificate)");
  const auto& status = doc["status"];
  auto str = [&](const char* key) {
    return status.contains(key) && status[key].is_string() ? status[key].get<std::string>() : "";
  };
  ExecCredential cred;
  cred.token = str("token");
  cred.client_cert_pem = str("clientCertificateData");
  cred.client_key_pem = str("clientKeyData");
  if (cred.client_cert_pem.empty() != cred.client_key_pem.empty())
    fail(exec, "status has only one of clientCertificateData and clientKeyData (expected both)");
  if (cred.token.empty() && cred.client_cert_pem.empty())
    fail(exec, "status has neither token nor clientCertificateData (expected one)");
  if (auto ts = str("expirationTimestamp"); !ts.empty()) {
    cred.expires = parse_rfc3339(ts);
    if (!cred.expires)
      fail(exec, "status.expirationTimestamp \"" + ts + "\" is not an RFC 3339 time");
  }
  return cred;
}

ExecCredential run_exec_plugin(const ExecConfig& exec, std::chrono::seconds timeout) {
  bool tty = ::isatty(STDIN_FILENO);
  if (exec.interactive_mode == "Always" && !tty)
    fail(exec, "interactiveMode is Always but standard input is not a terminal");
  bool interactive = tty && exec.interactive_mode != "Never";

  // The environment: ours, then the plugin's env entries, then the exec info.
  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : exec.env) env[k] = v;
  nlohmann::json info = {{"apiVersion", exec.api_version},
                         {"kind", "ExecCredential"},
                         {"spec", {{"interactive", interactive}}}};
  env["KUBERNETES_EXEC_INFO"] = info.dump();
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::vector<std::string> arg_strings{exec.command};
  arg_strings.insert(arg_strings.end(), exec.args.begin(), exec.args.end());
  std::vector<char*> argv;
  for (auto& s : arg_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) fail(exec, std::string("pipe: ") + std::strerror(errno));
  Fd out{fds[0]}, in_child{fds[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  if (!interactive)
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, exec.command.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw InputError(label(exec) + ": cannot run it: " + std::strerror(rc) +
                     (rc == ENOENT ? " (expected the plugin installed and on PATH)" : ""));
  ::close(in_child.fd);
  in_child.fd = -1;

  std::string output;
  auto deadline = Clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{out.fd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;  // timeout is handled at the top of the loop
    char buf[4096];
    ssize_t got = ::read(out.fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    output.append(buf, static_cast<size_t>(got));
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) fail(exec, "did not finish within " + std::to_string(timeout.count()) + "s");
  if (WIFSIGNALED(status)) fail(exec, "killed by signal " + std::to_string(WTERMSIG(status)));
  if (WEXITSTATUS(status) != 0)
    fail(exec, "exited with status " + std::to_string(WEXITSTATUS(status)) +
                   " (its error output is above)");
  return parse_exec_credential(output, exec);
}

}  // namespace faultline::kube
