// What the machine's CPU went to during a drain: utime + stime of every
// process from /proc/<pid>/stat, grouped by command name, as a difference of
// two samples. It tells a drain that waits on the control plane (the API
// server, etcd, the controllers and kwok using both cores) from one that
// waits on faultline itself, with figures rather than a guess (issue 14).
// User processes only; kernel threads count in the busy share alone.
#pragma once

#include <map>
#include <string>

namespace faultline::bench {

struct CpuSample {
  std::map<std::string, double> seconds_by_command;  // summed over that command's processes
  double busy_seconds = 0, idle_seconds = 0;         // all cores, from /proc/stat
};

CpuSample sample_cpu();

// "kube-apiserver 41.2 s, etcd 9.0 s, ... ; machine busy 64.1 of 66.0 core-s (97%)":
// the `top` commands by CPU used between `before` and `after`.
std::string describe_cpu_between(const CpuSample& before, const CpuSample& after, int top = 6);

}  // namespace faultline::bench
