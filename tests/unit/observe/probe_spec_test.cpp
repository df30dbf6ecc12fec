#include "runner/observe/probe_spec.h"

#include <gtest/gtest.h>

#include "runner/common/error.h"

namespace faultline::observe {
namespace {

std::vector<ProbeSpec> parse(const std::string& yaml) {
  return parse_probes(YamlReader::load_text("exp.yaml", yaml));
}

std::string error_of(const std::string& yaml) {
  try {
    parse(yaml);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ProbeSpec, ParsesEveryKind) {
  auto probes = parse(R"yaml(
- { name: http, http: { url: "http://checkout.shop.svc/healthz", rate: 20/s, timeout: 250ms,
                        method: HEAD, expect_status: [200, 204] } }
- { name: tcp, tcp: { address: "[::1]:8080", rate: 5/s } }
- { name: eps, endpoints: { service: checkout } }
- { name: pods, pods: {} }
- { name: errors, prometheus: { url: "http://prometheus:9090/", query: "sum(rate(x[1m]))", every: 5s,
                                bearer_token_file: /var/run/token } }
)yaml");
  ASSERT_EQ(probes.size(), 5u);
  const auto& http = std::get<HttpProbeSpec>(probes[0].spec);
  EXPECT_EQ(probes[0].kind(), ProbeKind::Http);
  EXPECT_EQ(http.url, "http://checkout.shop.svc/healthz");
  EXPECT_EQ(http.rate, 20);
  EXPECT_DOUBLE_EQ(http.timeout.count(), 0.25);
  EXPECT_EQ(http.method, "HEAD");
  EXPECT_EQ(http.expect_status, (std::vector<int>{200, 204}));
  EXPECT_TRUE(http.keepalive);
  EXPECT_EQ(std::get<TcpProbeSpec>(probes[1].spec).address, "[::1]:8080");
  EXPECT_DOUBLE_EQ(std::get<TcpProbeSpec>(probes[1].spec).timeout.count(), 1.0);
  EXPECT_EQ(std::get<EndpointsProbeSpec>(probes[2].spec).service, "checkout");
  EXPECT_EQ(std::get<PodsProbeSpec>(probes[3].spec).selector, "");
  const auto& prom = std::get<PrometheusProbeSpec>(probes[4].spec);
  EXPECT_EQ(prom.url, "http://prometheus:9090");  // trailing slash dropped
  EXPECT_DOUBLE_EQ(prom.every.count(), 5);
  EXPECT_EQ(prom.bearer_token_file, "/var/run/token");
  EXPECT_EQ(probes[4].where.line, 7);
}

TEST(ProbeSpec, RejectsUnknownFieldsWithTheirLocation) {
  EXPECT_EQ(
      error_of("- { name: a, http: { url: 'http://x/', rate: 1/s, retries: 3 } }"),
      "exp.yaml:1:51: unknown field \"retries\" in http probe (expected one of: url, rate, "
      "timeout, method, expect_status, body_contains, keepalive, insecure_skip_tls_verify, from, "
      "vantage_pods)");
}

TEST(ProbeSpec, RejectsBadRatesDurationsAndUrls) {
  EXPECT_EQ(error_of("- { name: a, http: { url: 'http://x/', rate: fast } }"),
            "exp.yaml:1:46: http probe rate: invalid rate \"fast\" (expected e.g. 20/s)");
  EXPECT_EQ(error_of("- { name: a, http: { url: 'http://x/', rate: 1/s, timeout: soon } }"),
            "exp.yaml:1:60: http probe timeout: invalid duration \"soon\" (expected e.g. 90s, 2m, "
            "250ms)");
  EXPECT_EQ(error_of("- { name: a, http: { url: 'ftp://x/', rate: 1/s } }"),
            "exp.yaml:1:27: http probe: expected an http:// or https:// URL, got \"ftp://x/\"");
  EXPECT_EQ(error_of("- { name: a, tcp: { address: 'localhost', rate: 1/s } }"),
            "exp.yaml:1:30: tcp probe: address must be host:port, got \"localhost\"");
  EXPECT_EQ(error_of("- { name: a, http: { url: 'http://x/', rate: 1/s, method: POST } }"),
            "exp.yaml:1:59: http probe: method must be GET or HEAD, got \"POST\"");
  EXPECT_EQ(error_of("- { name: a, http: { url: 'http://x/', rate: 1/s, expect_status: [42] } }"),
            "exp.yaml:1:67: http probe: expect_status entries must be HTTP status codes (100-599)");
}

TEST(ProbeSpec, RequiresExactlyOneKindAndUniqueNames) {
  EXPECT_EQ(error_of("- { name: a, pods: {}, endpoints: {} }"),
            "exp.yaml:1:3: probe \"a\": expected exactly one of http, tcp, endpoints, pods, "
            "prometheus");
  EXPECT_EQ(error_of("- { name: a, pods: {} }\n- { name: a, pods: {} }"),
            "exp.yaml:2:11: probe name \"a\" is used twice");
  EXPECT_EQ(error_of("- { http: { url: 'http://x/', rate: 1/s } }"),
            "exp.yaml:1:3: probe: required field \"name\" is missing");
  EXPECT_EQ(error_of("- { name: a, http: { url: 'http://x/' } }"),
            "exp.yaml:1:20: http probe: required field \"rate\" is missing");
}

TEST(ProbeSpec, SplitsHostAndPort) {
  EXPECT_EQ(split_host_port("127.0.0.1:80"), std::make_pair(std::string("127.0.0.1"), 80));
  EXPECT_EQ(split_host_port("[::1]:8080"), std::make_pair(std::string("::1"), 8080));
  EXPECT_FALSE(split_host_port("::1:80"));
  EXPECT_FALSE(split_host_port("host:0"));
  EXPECT_FALSE(split_host_port("host:99999"));
  EXPECT_FALSE(split_host_port(":80"));
}

// from: probes from one pod per zone (issue 13).
TEST(ProbeSpec, FromTakesAListOfZonesOrEveryZone) {
  auto probes = parse(R"yaml(
- name: web
  http:
    url: http://10.96.0.10/healthz
    rate: 20/s
    from: [zone-a, zone-b]
    vantage_pods:
      image: registry.local/faultline:0.1.0
      node_selector: { pool: probes }
      tolerations: [{ key: dedicated, operator: Equal, value: probes, effect: NoSchedule }]
- { name: all, http: { url: "http://x/", rate: 5/s, from: every-zone } }
- { name: here, http: { url: "http://x/", rate: 5/s } }
)yaml");
  const auto& web = std::get<HttpProbeSpec>(probes[0].spec);
  ASSERT_TRUE(web.from);
  EXPECT_FALSE(web.from->every_zone);
  EXPECT_EQ(web.from->zones, (std::vector<std::string>{"zone-a", "zone-b"}));
  EXPECT_EQ(web.from->where[1].line, 6);
  EXPECT_EQ(web.from->where[1].column, 20);
  EXPECT_EQ(web.from->image, "registry.local/faultline:0.1.0");
  EXPECT_EQ(web.from->node_selector.at("pool"), "probes");
  ASSERT_EQ(web.from->tolerations.size(), 1u);
  EXPECT_EQ(web.from->tolerations[0].at("effect"), "NoSchedule");
  const auto& all = std::get<HttpProbeSpec>(probes[1].spec);
  ASSERT_TRUE(all.from);
  EXPECT_TRUE(all.from->every_zone);
  EXPECT_FALSE(std::get<HttpProbeSpec>(probes[2].spec).from);
}

TEST(ProbeSpec, FromRejectsWhatTheVantagePodsCannotDo) {
  EXPECT_EQ(error_of("- { name: a, http: { url: 'http://x/', rate: 1/s, from: some-zones } }"),
            "exp.yaml:1:57: http probe from: expected every-zone or a list of zones");
  EXPECT_EQ(error_of("- { name: a, http: { url: 'http://x/', rate: 1/s, from: [] } }"),
            "exp.yaml:1:57: http probe from: expected at least one zone");
  EXPECT_EQ(error_of("- { name: a, http: { url: 'http://x/', rate: 1/s, from: [z1, z1] } }"),
            "exp.yaml:1:62: http probe from: zone \"z1\" is listed twice");
  EXPECT_EQ(
      error_of("- { name: a, http: { url: 'http://x/', rate: 1/s, method: HEAD, from: [z] } }"),
      "exp.yaml:1:59: http probe: method is not supported with from (the vantage pods send "
      "GET)");
  EXPECT_EQ(error_of("- { name: a, http: { url: 'http://x/', rate: 1/s, vantage_pods: {} } }"),
            "exp.yaml:1:65: http probe: vantage_pods needs from");
  EXPECT_EQ(
      error_of("- { name: a, http: { url: 'http://x/', rate: 2000/s, from: [z] } }"),
      "exp.yaml:1:46: http probe rate: at most 1000/s with from (what faultline probe sends)");
  EXPECT_EQ(
      error_of("- { name: a, http: { url: 'http://x/', rate: 1/s, timeout: 50ms, from: [z] } }"),
      "exp.yaml:1:60: http probe timeout: from 100ms to 60s with from (what faultline probe "
      "takes)");
  EXPECT_EQ(
      error_of("- { name: a, http: { url: 'http://x/', rate: 1/s, from: [z], vantage_pods: { "
               "tolerations: [{ key: k, operator: In }] } } }"),
      "exp.yaml:1:112: http probe vantage_pods tolerations: operator must be Exists or Equal");
}

}  // namespace
}  // namespace faultline::observe
