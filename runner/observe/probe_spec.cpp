#include "runner/observe/probe_spec.h"

#include <set>

#include "runner/common/error.h"

namespace faultline::observe {
namespace {

std::string scheme_of(const std::string& url) {
  auto colon = url.find("://");
  return colon == std::string::npos ? "" : url.substr(0, colon);
}

void check_http_url(const YamlReader& node, const std::string& url, const std::string& what) {
  auto scheme = scheme_of(url);
  if (scheme != "http" && scheme != "https")
    node.fail(what + ": expected an http:// or https:// URL, got \"" + url + "\"");
  if (url.size() <= scheme.size() + 3) node.fail(what + ": the URL has no host");
}

// A missing required field reads "<what>: required field "rate" is missing".
YamlReader required(const YamlReader& n, const std::string& key, const std::string& what) {
  auto child = n[key];
  if (!child.defined()) child.as_string(what);  // throws
  return child;
}

double positive_rate(const YamlReader& node, const std::string& what) {
  double rate = node.as_rate(what);
  // Beyond this one thread cannot keep a timetable; nobody needs it for a drill.
  if (rate > 20000) node.fail(what + ": rate above 20000/s is not supported");
  return rate;
}

Seconds positive_duration(const YamlReader& node, const std::string& what) {
  auto d = node.as_duration(what);
  if (d.count() <= 0) node.fail(what + ": must be greater than 0");
  // libcurl takes whole milliseconds, and 0 means "no timeout at all".
  if (d.count() < 0.001) node.fail(what + ": must be at least 1ms");
  return d;
}

// A poll interval under this spins the poller (and loads the server) for
// no gain: Prometheus itself scrapes every few seconds.
constexpr double kMinPollSeconds = 0.1;

// A Kubernetes label value or zone name as written: non-empty, no spaces.
std::string zone_name(const YamlReader& node, const std::string& what) {
  auto z = node.as_string(what);
  if (z.empty() || z.find_first_of(" \t,") != std::string::npos)
    node.fail(what + ": expected a zone name, got \"" + z + "\"");
  return z;
}

std::vector<std::map<std::string, std::string>> parse_tolerations(const YamlReader& list,
                                                                  const std::string& what) {
  std::vector<std::map<std::string, std::string>> out;
  list.expect_sequence(what);
  for (size_t i = 0; i < list.size(); ++i) {
    auto t = list.at(i);
    t.expect_map({"key", "operator", "value", "effect"}, what);
    std::map<std::string, std::string> m;
    for (const char* k : {"key", "operator", "value", "effect"})
      if (t.has(k)) m[k] = t[k].as_string(what + " " + k);
    if (m.count("operator") && m["operator"] != "Exists" && m["operator"] != "Equal")
      t["operator"].fail(what + ": operator must be Exists or Equal");
    out.push_back(std::move(m));
  }
  return out;
}

// from: every-zone | [zone-a, zone-b]; vantage_pods: { image, node_selector, tolerations }.
VantageSpec parse_from(const YamlReader& n) {
  const std::string what = "http probe from";
  VantageSpec v;
  auto from = n["from"];
  v.from_where = SpecLocation::of(from);
  if (from.is_scalar()) {
    if (from.as_string(what) != "every-zone")
      from.fail(what + ": expected every-zone or a list of zones");
    v.every_zone = true;
  } else {
    from.expect_sequence(what);
    if (from.size() == 0) from.fail(what + ": expected at least one zone");
    for (size_t i = 0; i < from.size(); ++i) {
      auto z = zone_name(from.at(i), what);
      for (const auto& seen : v.zones)
        if (seen == z) from.at(i).fail(what + ": zone \"" + z + "\" is listed twice");
      v.zones.push_back(z);
      v.where.push_back(SpecLocation::of(from.at(i)));
    }
  }
  if (n.has("vantage_pods")) {
    auto vp = n["vantage_pods"];
    vp.expect_map({"image", "node_selector", "tolerations"}, "http probe vantage_pods");
    if (auto image = vp.opt_string("image")) {
      if (image->empty()) vp["image"].fail("http probe vantage_pods: image must not be empty");
      v.image = *image;
    }
    if (vp.has("node_selector")) {
      auto sel = vp["node_selector"];
      if (!sel.is_map()) sel.fail("http probe vantage_pods node_selector: expected a map");
      sel.for_each([&](const std::string& k, const YamlReader& val) {
        v.node_selector[k] = val.as_string("http probe vantage_pods node_selector");
      });
    }
    if (vp.has("tolerations"))
      v.tolerations = parse_tolerations(vp["tolerations"], "http probe vantage_pods tolerations");
  }
  return v;
}

HttpProbeSpec parse_http(const YamlReader& n) {
  const std::string what = "http probe";
  n.expect_map({"url", "rate", "timeout", "method", "expect_status", "body_contains", "keepalive",
                "insecure_skip_tls_verify", "from", "vantage_pods"},
               what);
  HttpProbeSpec s;
  s.url = n["url"].as_string(what);
  check_http_url(n["url"], s.url, what);
  s.rate = positive_rate(required(n, "rate", what), what + " rate");
  if (n.has("timeout")) s.timeout = positive_duration(n["timeout"], what + " timeout");
  if (n.has("method")) {
    s.method = n["method"].as_string(what);
    if (s.method != "GET" && s.method != "HEAD")
      n["method"].fail(what + ": method must be GET or HEAD, got \"" + s.method + "\"");
  }
  if (n.has("expect_status")) {
    auto list = n["expect_status"];
    list.expect_sequence(what + " expect_status");
    for (size_t i = 0; i < list.size(); ++i) {
      auto code = list.at(i).as_int(what + " expect_status");
      if (code < 100 || code > 599)
        list.at(i).fail(what + ": expect_status entries must be HTTP status codes (100-599)");
      s.expect_status.push_back(static_cast<int>(code));
    }
    if (s.expect_status.empty()) list.fail(what + ": expect_status must not be empty");
  }
  if (n.has("body_contains")) {
    s.body_contains = n["body_contains"].as_string(what);
    if (s.method == "HEAD") n["body_contains"].fail(what + ": body_contains needs method GET");
  }
  if (n.has("keepalive")) s.keepalive = n["keepalive"].as_bool(what + " keepalive");
  if (n.has("insecure_skip_tls_verify"))
    s.insecure_skip_tls_verify = n["insecure_skip_tls_verify"].as_bool(what);
  if (n.has("vantage_pods") && !n.has("from"))
    n["vantage_pods"].fail(what + ": vantage_pods needs from");
  if (n.has("from")) {
    // The vantage pods run `faultline probe`, which checks the status class
    // only (2xx/3xx) and sends GET: refuse what it would silently ignore.
    for (const char* k : {"method", "expect_status", "body_contains", "insecure_skip_tls_verify"})
      if (n.has(k))
        n[k].fail(what + ": " + k + " is not supported with from (the vantage pods send GET)");
    if (s.rate > 1000)
      n["rate"].fail(what + " rate: at most 1000/s with from (what faultline probe sends)");
    if (s.timeout.count() < 0.1 || s.timeout.count() > 60)
      n["timeout"].fail(what +
                        " timeout: from 100ms to 60s with from (what faultline probe takes)");
    s.from = parse_from(n);
  }
  return s;
}

TcpProbeSpec parse_tcp(const YamlReader& n) {
  const std::string what = "tcp probe";
  n.expect_map({"address", "rate", "timeout"}, what);
  TcpProbeSpec s;
  s.address = n["address"].as_string(what);
  if (!split_host_port(s.address))
    n["address"].fail(what + ": address must be host:port, got \"" + s.address + "\"");
  s.rate = positive_rate(required(n, "rate", what), what + " rate");
  if (n.has("timeout")) s.timeout = positive_duration(n["timeout"], what + " timeout");
  return s;
}

EndpointsProbeSpec parse_endpoints(const YamlReader& n) {
  EndpointsProbeSpec s;
  if (!n.defined()) return s;  // `endpoints: {}` or `endpoints:`
  n.expect_map({"service"}, "endpoints probe");
  if (auto svc = n.opt_string("service")) s.service = *svc;
  return s;
}

PodsProbeSpec parse_pods(const YamlReader& n) {
  PodsProbeSpec s;
  if (!n.defined()) return s;
  n.expect_map({"selector"}, "pods probe");
  if (n.has("selector")) s.selector = n["selector"].as_selector("pods probe selector");
  return s;
}

PrometheusProbeSpec parse_prometheus(const YamlReader& n) {
  const std::string what = "prometheus probe";
  n.expect_map({"url", "query", "every", "timeout", "bearer_token_file", "ca_file",
                "insecure_skip_tls_verify"},
               what);
  PrometheusProbeSpec s;
  s.url = n["url"].as_string(what);
  check_http_url(n["url"], s.url, what);
  while (!s.url.empty() && s.url.back() == '/') s.url.pop_back();
  s.query = n["query"].as_string(what);
  if (s.query.empty()) n["query"].fail(what + ": query must not be empty");
  if (n.has("every")) {
    s.every = positive_duration(n["every"], what + " every");
    if (s.every.count() < kMinPollSeconds) n["every"].fail(what + " every: must be at least 100ms");
  }
  if (n.has("timeout")) s.timeout = positive_duration(n["timeout"], what + " timeout");
  if (auto f = n.opt_string("bearer_token_file")) s.bearer_token_file = *f;
  if (auto f = n.opt_string("ca_file")) s.ca_file = *f;
  if (n.has("insecure_skip_tls_verify"))
    s.insecure_skip_tls_verify = n["insecure_skip_tls_verify"].as_bool(what);
  return s;
}

}  // namespace

void SpecLocation::fail(const std::string& message) const {
  if (line <= 0) throw InputError(file + ": " + message);
  throw InputError(file, line, column, message);
}

SpecLocation SpecLocation::of(const YamlReader& node) {
  SpecLocation at;
  at.file = node.file();
  if (node.node().IsDefined() && !node.node().Mark().is_null()) {
    at.line = node.line();
    at.column = node.column();
  }
  return at;
}

const char* to_string(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::Http:
      return "http";
    case ProbeKind::Tcp:
      return "tcp";
    case ProbeKind::Endpoints:
      return "endpoints";
    case ProbeKind::Pods:
      return "pods";
    case ProbeKind::Prometheus:
      return "prometheus";
  }
  return "?";
}

ProbeSpec parse_probe(const YamlReader& node) {
  const std::string what = "probe";
  node.expect_map({"name", "http", "tcp", "endpoints", "pods", "prometheus"}, what);
  ProbeSpec p;
  p.where = SpecLocation::of(node);
  p.name = node["name"].as_string(what);
  if (p.name.empty()) node["name"].fail("probe: name must not be empty");
  int kinds = 0;
  for (const char* k : {"http", "tcp", "endpoints", "pods", "prometheus"}) kinds += node.has(k);
  if (kinds != 1)
    node.fail("probe \"" + p.name +
              "\": expected exactly one of http, tcp, endpoints, pods, prometheus");
  if (node.has("http")) {
    p.spec = parse_http(node["http"]);
  } else if (node.has("tcp")) {
    p.spec = parse_tcp(node["tcp"]);
  } else if (node.has("endpoints")) {
    p.spec = parse_endpoints(node["endpoints"]);
  } else if (node.has("pods")) {
    p.spec = parse_pods(node["pods"]);
  } else {
    p.spec = parse_prometheus(node["prometheus"]);
  }
  return p;
}

std::vector<ProbeSpec> parse_probes(const YamlReader& list) {
  std::vector<ProbeSpec> probes;
  if (!list.defined()) return probes;
  list.expect_sequence("probes");
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    auto p = parse_probe(list.at(i));
    if (!names.insert(p.name).second)
      list.at(i)["name"].fail("probe name \"" + p.name + "\" is used twice");
    probes.push_back(std::move(p));
  }
  return probes;
}

std::optional<std::pair<std::string, int>> split_host_port(const std::string& address) {
  std::string host, port;
  if (!address.empty() && address.front() == '[') {
    auto close = address.find("]:");
    if (close == std::string::npos) return std::nullopt;
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    auto colon = address.rfind(':');
    if (colon == std::string::npos || address.find(':') != colon) return std::nullopt;
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.size() > 5) return std::nullopt;
  for (char c : port)
    if (c < '0' || c > '9') return std::nullopt;
  int n = std::stoi(port);
  if (n < 1 || n > 65535) return std::nullopt;
  return std::make_pair(host, n);
}

}  // namespace faultline::observe
