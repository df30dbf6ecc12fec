// A HostApi that records every call and answers from a table, for testing
// the Lua host alone (the real HostApi is tested end to end).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "runner/script/host_api.h"

namespace faultline::script::testing {

class FakeHostApi : public HostApi {
 public:
  struct Call {
    std::string function;  // "chaos.cordon_zone"
    json args;             // the arguments as a JSON array
  };
  struct LogLine {
    std::string level, message, where;
  };

  std::vector<Call> calls;
  std::vector<LogLine> logs;
  std::vector<std::string> marks;

  // What a function returns (by "module.function"); {} when absent.
  std::map<std::string, json> results;
  // Run before the function returns, e.g. to throw or to request a stop.
  std::map<std::string, std::function<void()>> before;
  std::vector<std::string> zone_names{"zone-a", "zone-b", "zone-c"};

  // The names of the recorded calls, in order.
  std::vector<std::string> call_names() const;

  std::vector<std::string> zones() override;
  json nodes(const json& filter) override;
  json pods(const json& filter) override;
  json workloads(const json& filter) override;
  json pdbs(const json& filter) override;
  json cordon_zone(const std::string& zone) override;
  json uncordon_zone(const std::string& zone) override;
  json cordon_node(const std::string& node) override;
  json uncordon_node(const std::string& node) override;
  json drain_zone(const std::string& zone, const json& options) override;
  json drain_node(const std::string& node, const json& options) override;
  json kill_pods(const json& options) override;
  json violate_pdb(const json& options) override;
  json fail_zone(const std::string& zone, const json& options) override;
  json restore_zone(const std::string& zone) override;
  json until_ready(const json& options) override;
  void sleep(double seconds) override;
  json probe_http(const json& options) override;
  json probe_query(const json& options) override;
  void log(const std::string& level, const std::string& message, const std::string& where) override;
  void mark(const std::string& label) override;

 private:
  json record(const std::string& function, json args);
};

}  // namespace faultline::script::testing
