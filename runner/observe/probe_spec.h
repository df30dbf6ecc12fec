// The `probes:` entries of an experiment spec (DESIGN.md, "The experiment
// spec"), parsed strictly: unknown fields, wrong types and bad
// durations/rates are InputErrors naming file:line:col.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "runner/common/duration.h"
#include "runner/common/yaml_reader.h"

namespace faultline::observe {

// Where a spec entry was written, so later checks (an SLO naming a probe that
// does not exist) can still point at the line.
struct SpecLocation {
  std::string file;
  int line = 0;
  int column = 0;
  [[noreturn]] void fail(const std::string& message) const;  // throws InputError
  static SpecLocation of(const YamlReader& node);
};

// `from:` on an http probe (issue 13): probe from one pod per zone instead of
// from the runner, so the report tells "zone-a is dark" from "the service is
// down". `vantage_pods:` says where and how those pods run.
struct VantageSpec {
  bool every_zone = false;          // from: every-zone (the target's zones at run start)
  std::vector<std::string> zones;   // from: [zone-a, zone-b]
  std::vector<SpecLocation> where;  // of each listed zone (an unknown one is exit 2)
  SpecLocation from_where;          // of the `from:` value
  std::string image;                // "" → the runner's default (FAULTLINE_PROBE_IMAGE)
  std::map<std::string, std::string> node_selector;  // added to the zone label
  // Added to faultline's own zone-failure toleration: {key, operator, value, effect}.
  std::vector<std::map<std::string, std::string>> tolerations;
};

// { url, rate: 20/s, timeout: 1s, method?: GET|HEAD, expect_status?: [200],
//   body_contains?, keepalive?: true, insecure_skip_tls_verify?: false,
//   from?: [zone, ...] | every-zone, vantage_pods?: { image?, node_selector?, tolerations? } }
struct HttpProbeSpec {
  std::string url;
  double rate = 0;  // requests per second
  Seconds timeout{1};
  std::string method = "GET";
  std::vector<int> expect_status;  // empty: any 2xx or 3xx
  std::optional<std::string> body_contains;
  // Reusing connections keeps 1,000 req/s from exhausting ephemeral ports;
  // false opens a fresh connection per request (what a new client sees).
  bool keepalive = true;
  bool insecure_skip_tls_verify = false;
  std::optional<VantageSpec> from;
};

// { address: "127.0.0.1:8080", rate, timeout }
struct TcpProbeSpec {
  std::string address;  // host:port, [v6]:port
  double rate = 0;
  Seconds timeout{1};
};

// { service? } — the target's namespace; service defaults to the target's.
struct EndpointsProbeSpec {
  std::string service;
};

// { selector? } — the target's namespace; selector defaults to the target's.
struct PodsProbeSpec {
  std::string selector;
};

// { url, query, every: 5s, timeout?, bearer_token_file?, ca_file?,
//   insecure_skip_tls_verify? }
struct PrometheusProbeSpec {
  std::string url;  // base URL: http://prometheus:9090
  std::string query;
  Seconds every{5};
  Seconds timeout{0};  // 0: min(every, 10s)
  std::string bearer_token_file;
  std::string ca_file;
  bool insecure_skip_tls_verify = false;
};

enum class ProbeKind { Http, Tcp, Endpoints, Pods, Prometheus };
const char* to_string(ProbeKind kind);

struct ProbeSpec {
  std::string name;
  std::variant<HttpProbeSpec, TcpProbeSpec, EndpointsProbeSpec, PodsProbeSpec, PrometheusProbeSpec>
      spec;
  SpecLocation where;

  ProbeKind kind() const { return static_cast<ProbeKind>(spec.index()); }
  // http and tcp probes produce request samples (availability, latency).
  bool is_request() const { return kind() == ProbeKind::Http || kind() == ProbeKind::Tcp; }
};

ProbeSpec parse_probe(const YamlReader& node);
// The whole `probes:` list; names must be unique.
std::vector<ProbeSpec> parse_probes(const YamlReader& list);

// "127.0.0.1:8080" -> {"127.0.0.1", 8080}; "[::1]:80" -> {"::1", 80}.
// nullopt when malformed.
std::optional<std::pair<std::string, int>> split_host_port(const std::string& address);

}  // namespace faultline::observe
