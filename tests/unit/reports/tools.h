// What the report tests need to drive real tools: run a command and capture
// its output, keep a background server (the Pushgateway) alive for a test,
// temporary directories, a free loopback port, an HTTP GET, and a parser for
// the Prometheus text format.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace faultline::reports::testing {

struct CommandResult {
  int exit_code = -1;  // 128 + signal when killed
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs argv in its own process group, stdout/stderr captured. After
// timeout_seconds the whole group is killed and timed_out is set.
CommandResult run_command(const std::vector<std::string>& argv, double timeout_seconds = 120);

// A long-running child (a server). stop() (or the destructor) sends SIGTERM
// to its process group, then SIGKILL if it lingers.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::string& log_path);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  void stop();
  bool running();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

struct HttpResponse {
  long status = 0;  // 0 when no response (curl error in `error`)
  std::string body;
  std::string error;
};
HttpResponse http_get(const std::string& url);

// Polls url until it answers 200 or timeout_seconds pass.
bool wait_for_http_ok(const std::string& url, double timeout_seconds);

// One sample of the Prometheus text exposition format.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};
std::vector<Sample> parse_exposition(const std::string& text);

// The samples named `name` whose labels include every label in `subset`.
std::vector<Sample> find_samples(const std::vector<Sample>& samples, const std::string& name,
                                 const std::map<std::string, std::string>& subset = {});

// Where the checked-in files live, and where tests leave artifacts to look at.
std::string source_dir();
std::string artifact_dir();

}  // namespace faultline::reports::testing
