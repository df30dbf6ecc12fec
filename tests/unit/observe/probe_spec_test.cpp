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
  EXPECT_EQ(error_of("- { name: a, http: { url: 'http://x/', rate: 1/s, retries: 3 } }"),
            "exp.yaml:1:51: unknown field \"retries\" in http probe (expected one of: url, rate, "
            "timeout, method, expect_status, body_contains, keepalive, insecure_skip_tls_verify)");
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

}  // namespace
}  // namespace faultline::observe
