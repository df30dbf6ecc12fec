#include "tests/bench/drain/cpu_by_process.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace faultline::bench {
namespace {

// /proc/<pid>/stat: "pid (comm) state ppid ... utime(14) stime(15) ..."; comm
// may hold spaces and parentheses, so the fields are read after the last ')'.
bool read_process(const std::filesystem::path& stat, std::string* comm, double* seconds) {
  std::ifstream in(stat);
  std::string line;
  if (!std::getline(in, line)) return false;  // the process ended between listing and reading
  size_t open = line.find('('), close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return false;
  *comm = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 1));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  *seconds = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  return true;
}

}  // namespace

CpuSample sample_cpu() {
  CpuSample s;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    // Kernel threads (an empty cmdline) are left out by name: a kworker's
    // name changes with its work item, so its CPU would count as new at each
    // sample. Their CPU is still in the machine's busy share.
    std::ifstream cmdline(entry.path() / "cmdline");
    if (cmdline.peek() == std::ifstream::traits_type::eof()) continue;
    std::string comm;
    double seconds = 0;
    if (read_process(entry.path() / "stat", &comm, &seconds)) s.seconds_by_command[comm] += seconds;
  }
  std::ifstream stat("/proc/stat");
  std::string cpu;
  unsigned long long v[8] = {};
  stat >> cpu >> v[0] >> v[1] >> v[2] >> v[3] >> v[4] >> v[5] >> v[6] >> v[7];
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  s.idle_seconds = static_cast<double>(v[3] + v[4]) / tick;  // idle + iowait
  s.busy_seconds = static_cast<double>(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / tick;
  return s;
}

std::string describe_cpu_between(const CpuSample& before, const CpuSample& after, int top) {
  // A process that started during the drain counts from zero; one that ended
  // is lost (its CPU went to its parent's cutime, not read here).
  std::vector<std::pair<double, std::string>> used;
  for (const auto& [comm, seconds] : after.seconds_by_command) {
    auto was = before.seconds_by_command.find(comm);
    double delta = seconds - (was == before.seconds_by_command.end() ? 0 : was->second);
    if (delta > 0) used.emplace_back(delta, comm);
  }
  std::sort(used.rbegin(), used.rend());
  std::string out;
  char part[96];
  for (int i = 0; i < top && i < static_cast<int>(used.size()); ++i) {
    std::snprintf(part, sizeof part, "%s%s %.1f s", i ? ", " : "", used[i].second.c_str(),
                  used[i].first);
    out += part;
  }
  double busy = after.busy_seconds - before.busy_seconds;
  double all = busy + after.idle_seconds - before.idle_seconds;
  std::snprintf(part, sizeof part, "; machine busy %.1f of %.1f core-s (%.0f%%)", busy, all,
                all > 0 ? 100 * busy / all : 0);
  return out + part;
}

}  // namespace faultline::bench
