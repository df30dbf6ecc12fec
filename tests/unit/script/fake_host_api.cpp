#include "tests/unit/script/fake_host_api.h"

namespace faultline::script::testing {

std::vector<std::string> FakeHostApi::call_names() const {
  std::vector<std::string> names;
  for (const auto& call : calls) names.push_back(call.function);
  return names;
}

json FakeHostApi::record(const std::string& function, json args) {
  calls.push_back({function, std::move(args)});
  if (auto it = before.find(function); it != before.end()) it->second();
  if (auto it = results.find(function); it != results.end()) return it->second;
  return json::object();
}

std::vector<std::string> FakeHostApi::zones() {
  record("cluster.zones", json::array());
  return zone_names;
}
json FakeHostApi::nodes(const json& f) { return record("cluster.nodes", json::array({f})); }
json FakeHostApi::pods(const json& f) { return record("cluster.pods", json::array({f})); }
json FakeHostApi::workloads(const json& f) { return record("cluster.workloads", json::array({f})); }
json FakeHostApi::pdbs(const json& f) { return record("cluster.pdbs", json::array({f})); }
json FakeHostApi::cordon_zone(const std::string& z) {
  return record("chaos.cordon_zone", json::array({z}));
}
json FakeHostApi::uncordon_zone(const std::string& z) {
  return record("chaos.uncordon_zone", json::array({z}));
}
json FakeHostApi::cordon_node(const std::string& n) {
  return record("chaos.cordon_node", json::array({n}));
}
json FakeHostApi::uncordon_node(const std::string& n) {
  return record("chaos.uncordon_node", json::array({n}));
}
json FakeHostApi::drain_zone(const std::string& z, const json& o) {
  return record("chaos.drain_zone", json::array({z, o}));
}
json FakeHostApi::drain_node(const std::string& n, const json& o) {
  return record("chaos.drain_node", json::array({n, o}));
}
json FakeHostApi::kill_pods(const json& o) { return record("chaos.kill_pods", json::array({o})); }
json FakeHostApi::violate_pdb(const json& o) {
  return record("chaos.violate_pdb", json::array({o}));
}
json FakeHostApi::fail_zone(const std::string& z, const json& o) {
  return record("chaos.fail_zone", json::array({z, o}));
}
json FakeHostApi::restore_zone(const std::string& z) {
  return record("chaos.restore_zone", json::array({z}));
}
json FakeHostApi::until_ready(const json& o) {
  return record("wait.until_ready", json::array({o}));
}
void FakeHostApi::sleep(double seconds) { record("wait.sleep", json::array({seconds})); }
json FakeHostApi::probe_http(const json& o) { return record("probe.http", json::array({o})); }
json FakeHostApi::probe_query(const json& o) { return record("probe.query", json::array({o})); }
void FakeHostApi::log(const std::string& level, const std::string& message,
                      const std::string& where) {
  logs.push_back({level, message, where});
  record("log." + level, json::array({message, where}));
}
void FakeHostApi::mark(const std::string& label) {
  marks.push_back(label);
  record("log.mark", json::array({label}));
}

}  // namespace faultline::script::testing
