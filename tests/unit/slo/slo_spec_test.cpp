#include "runner/slo/slo_spec.h"

#include <gtest/gtest.h>

#include "runner/common/error.h"

namespace faultline::slo {
namespace {

YamlReader yaml(const std::string& text) { return YamlReader::load_text("exp.yaml", text); }

template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(SloSpec, ParsesEveryKind) {
  auto slos = parse_slos(yaml(R"(
- { availability: { probe: http, min: "99.5%", max_outage: 5s } }
- { latency: { probe: http, p95: 200ms, p99: 1s } }
- { ready_endpoints: { service: checkout, min: 2, per_zone_min: 1 } }
- { replacement: { within: 120s, max_skew: 1 } }
- { pdb: { name: checkout } }
- { prometheus: { probe: errors, max: 0.01, at: end } }
- { pdb: {} }
)"));
  ASSERT_EQ(slos.size(), 7u);
  EXPECT_EQ(slos[0].kind, SloKind::Availability);
  EXPECT_DOUBLE_EQ(slos[0].min_ratio, 0.995);
  EXPECT_EQ(slos[0].max_outage, 5);
  EXPECT_EQ(slos[0].name(), "availability(http)");
  EXPECT_EQ(slos[1].percentiles, (std::vector<std::pair<int, double>>{{95, 0.2}, {99, 1}}));
  EXPECT_EQ(slos[2].min_ready, 2);
  EXPECT_EQ(slos[2].per_zone_min, 1);
  EXPECT_EQ(slos[2].name(), "ready_endpoints(checkout)");
  EXPECT_EQ(slos[3].within, 120);
  EXPECT_EQ(slos[3].max_skew, 1);
  EXPECT_EQ(slos[3].name(), "replacement");
  EXPECT_FALSE(slos[3].steady_state());
  EXPECT_EQ(slos[4].pdb, "checkout");
  EXPECT_EQ(slos[4].name(), "pdb(checkout)");
  EXPECT_TRUE(slos[5].at_end);
  EXPECT_EQ(slos[5].max, 0.01);
  EXPECT_TRUE(slos[5].steady_state());
  EXPECT_EQ(slos[6].name(), "pdb");
  EXPECT_EQ(slos[3].where.line, 5);
}

TEST(SloSpec, RejectsBadInputWithItsLocation) {
  EXPECT_EQ(error_of([] { parse_slos(yaml("- { availability: { probe: http, min: lots } }")); }),
            "exp.yaml:1:39: availability SLO min: invalid ratio \"lots\" (expected e.g. 99.5% or "
            "0.995)");
  EXPECT_EQ(error_of([] { parse_slos(yaml("- { availability: { probe: http, min: 150% } }")); }),
            "exp.yaml:1:39: availability SLO min: invalid ratio \"150%\" (expected e.g. 99.5% or "
            "0.995)");
  EXPECT_EQ(error_of([] { parse_slos(yaml("- { replacement: { within: soon } }")); }),
            "exp.yaml:1:28: replacement SLO within: invalid duration \"soon\" (expected e.g. 90s, "
            "2m, 250ms)");
  EXPECT_EQ(
      error_of([] { parse_slos(yaml("- { latency: { probe: http, p90: 1s } }")); }),
      "exp.yaml:1:29: unknown field \"p90\" in latency SLO (expected one of: probe, p50, p95, "
      "p99)");
  EXPECT_EQ(error_of([] { parse_slos(yaml("- { latency: { probe: http } }")); }),
            "exp.yaml:1:14: latency SLO: expected at least one of p50, p95, p99");
  EXPECT_EQ(error_of([] { parse_slos(yaml("- { uptime: { probe: http } }")); }),
            "exp.yaml:1:5: unknown field \"uptime\" in slo (expected one of: availability, "
            "latency, ready_endpoints, replacement, pdb, prometheus, rto, rpo, restore_complete)");
  EXPECT_EQ(error_of([] { parse_slos(yaml("- { ready_endpoints: { min: -1 } }")); }),
            "exp.yaml:1:29: ready_endpoints SLO min: expected a count >= 0, got -1");
  EXPECT_EQ(error_of([] { parse_slos(yaml("- { prometheus: { probe: e, at: start, max: 1 } }")); }),
            "exp.yaml:1:33: prometheus SLO: at must be every or end, got \"start\"");
  EXPECT_EQ(error_of([] { parse_slos(yaml("- { prometheus: { probe: e } }")); }),
            "exp.yaml:1:17: prometheus SLO: expected max or min (or both)");
  EXPECT_EQ(error_of([] { parse_slos(yaml("- { replacement: { max_skew: 1 } }")); }),
            "exp.yaml:1:18: replacement SLO: required field \"within\" is missing");
  EXPECT_EQ(error_of([] { parse_slos(yaml("- { availability: { min: 99% } }")); }),
            "exp.yaml:1:19: availability SLO: required field \"probe\" is missing");
}

TEST(AbortSpec, ParsesEveryKindAndNamesTheCondition) {
  auto aborts = parse_aborts(yaml(R"(
- { availability: { probe: http, below: "90%", window: 10s } }
- { ready_endpoints: { below: 1 } }
- { prometheus: { probe: errors, above: 0.05 } }
)"));
  ASSERT_EQ(aborts.size(), 3u);
  EXPECT_EQ(aborts[0].condition(), "availability(http) below 90% over 10s");
  EXPECT_EQ(aborts[1].below_count, 1);
  EXPECT_EQ(aborts[2].condition(), "prometheus(errors) above 0.05");
  EXPECT_EQ(error_of([] { parse_aborts(yaml("- { availability: { probe: http, below: 90% } }")); }),
            "exp.yaml:1:19: availability abort condition: required field \"window\" is missing");
  EXPECT_EQ(error_of([] { parse_aborts(yaml("- { ready_endpoints: { below: 0 } }")); }),
            "exp.yaml:1:31: ready_endpoints abort condition: below must be at least 1");
  EXPECT_EQ(error_of([] { parse_aborts(yaml("- { latency: { probe: http } }")); }),
            "exp.yaml:1:5: unknown field \"latency\" in abort condition (expected one of: "
            "availability, ready_endpoints, prometheus)");
}

std::vector<observe::ProbeSpec> probes(const std::string& text) {
  return observe::parse_probes(yaml(text));
}

TEST(LinkProbes, AnUnknownOrWrongProbeIsAnErrorAtTheSloLine) {
  auto p = probes(
      "- { name: http, http: { url: 'http://x/', rate: 1/s } }\n"
      "- { name: errors, prometheus: { url: 'http://p:9090', query: up } }");
  std::vector<AbortSpec> none;
  auto slos = parse_slos(yaml("\n\n- { availability: { probe: htp, min: 99% } }"));
  EXPECT_EQ(error_of([&] { link_probes(slos, none, p, {}); }),
            "exp.yaml:3:3: availability SLO: probe \"htp\" is not defined (probes: http, errors)");
  auto wrong = parse_slos(yaml("- { latency: { probe: errors, p99: 1s } }"));
  EXPECT_EQ(error_of([&] { link_probes(wrong, none, p, {}); }),
            "exp.yaml:1:3: latency SLO: probe \"errors\" is a prometheus probe; expected http or "
            "tcp");
  auto aborts = parse_aborts(yaml("- { prometheus: { probe: http, above: 1 } }"));
  std::vector<SloSpec> no_slos;
  EXPECT_EQ(error_of([&] { link_probes(no_slos, aborts, p, {}); }),
            "exp.yaml:1:3: prometheus abort condition: probe \"http\" is a http probe; expected "
            "prometheus");
}

// A faulted zone's vantage goes dark by design: a stop condition on a probe
// with from: would abort every zone outage, so it is refused (exit 2).
TEST(LinkProbes, AStopConditionOnAProbeWithVantagesIsRefused) {
  auto p = probes("- { name: web, http: { url: 'http://x/', rate: 1/s, from: every-zone } }");
  auto aborts = parse_aborts(yaml("- { availability: { probe: web, below: 90%, window: 10s } }"));
  std::vector<SloSpec> slos;
  EXPECT_EQ(error_of([&] { link_probes(slos, aborts, p, {}); }),
            "exp.yaml:1:3: availability abort condition: probe \"web\" runs from vantage pods "
            "(from:); stop conditions on it are not supported");
  auto ok = parse_slos(yaml("- { availability: { probe: web, min: 99% } }"));
  std::vector<AbortSpec> none;
  EXPECT_EQ(error_of([&] { link_probes(ok, none, p, {}); }), "no error");
}

TEST(LinkProbes, AddsTheKubernetesProbesTheSlosNeed) {
  // DESIGN.md's example: replacement and ready_endpoints without a pods probe.
  auto p = probes(
      "- { name: http, http: { url: 'http://x/', rate: 20/s } }\n"
      "- { name: endpoints, endpoints: { service: checkout } }");
  auto slos =
      parse_slos(yaml("- { ready_endpoints: { service: checkout, min: 2 } }\n"
                      "- { replacement: { within: 120s } }\n"
                      "- { ready_endpoints: { service: cart, min: 1 } }\n"
                      "- { pdb: {} }"));
  auto aborts = parse_aborts(yaml("- { ready_endpoints: { below: 1, service: checkout } }"));
  link_probes(slos, aborts, p, {"shop", "app=checkout", "checkout"});
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(slos[0].probe, "endpoints");
  EXPECT_EQ(slos[1].probe, "pods");
  EXPECT_EQ(p[2].name, "pods");
  EXPECT_EQ(p[2].kind(), observe::ProbeKind::Pods);
  EXPECT_EQ(slos[2].probe, "endpoints:cart");
  EXPECT_EQ(std::get<observe::EndpointsProbeSpec>(p[3].spec).service, "cart");
  EXPECT_EQ(slos[3].probe, "pods");  // reuses the one added for replacement
  EXPECT_EQ(aborts[0].probe, "endpoints");
}

TEST(LinkProbes, TargetServiceIsTheDefaultForEndpoints) {
  std::vector<observe::ProbeSpec> p;
  auto slos = parse_slos(yaml("- { ready_endpoints: { min: 2 } }"));
  std::vector<AbortSpec> none;
  link_probes(slos, none, p, {"shop", "app=web", "web"});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(slos[0].probe, "endpoints:web");
  auto again = parse_slos(yaml("- { ready_endpoints: { min: 2 } }"));
  std::vector<observe::ProbeSpec> empty;
  EXPECT_EQ(error_of([&] { link_probes(again, none, empty, {}); }),
            "exp.yaml:1:3: ready_endpoints SLO: no service to watch (set service: or "
            "target.service)");
}

}  // namespace
}  // namespace faultline::slo
