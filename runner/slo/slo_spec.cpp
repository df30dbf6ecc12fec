#include "runner/slo/slo_spec.h"

#include <cmath>

#include "runner/common/duration.h"

namespace faultline::slo {
namespace {

using observe::ProbeKind;
using observe::ProbeSpec;

// The entry's only key names its kind: `{ availability: {...} }`.
std::string single_key(const YamlReader& node, std::initializer_list<const char*> kinds,
                       const std::string& what) {
  node.expect_map(kinds, what);
  if (node.size() != 1) {
    std::string list;
    for (const char* k : kinds) list += (list.empty() ? "" : ", ") + std::string(k);
    node.fail(what + ": expected exactly one of " + list);
  }
  std::string key;
  node.for_each([&](const std::string& k, const YamlReader&) { key = k; });
  return key;
}

// A missing required field reads "<what>: required field "min" is missing".
YamlReader required(const YamlReader& n, const std::string& key, const std::string& what) {
  auto child = n[key];
  if (!child.defined()) child.as_string(what);  // throws
  return child;
}

int non_negative_int(const YamlReader& n, const std::string& what) {
  auto v = n.as_int(what);
  if (v < 0 || v > 1000000) n.fail(what + ": expected a count >= 0, got " + std::to_string(v));
  return static_cast<int>(v);
}

double seconds(const YamlReader& n, const std::string& what, bool positive) {
  double s = n.as_duration(what).count();
  if (positive && s <= 0) n.fail(what + ": must be greater than 0");
  return s;
}

std::string percent_text(double ratio) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%", std::round(ratio * 1e6) / 1e4);
  return buf;
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string probe_names(const std::vector<ProbeSpec>& probes) {
  std::string names;
  for (const auto& p : probes) names += (names.empty() ? "" : ", ") + p.name;
  return names.empty() ? "none" : names;
}

const ProbeSpec* find_probe(const std::vector<ProbeSpec>& probes, const std::string& name) {
  for (const auto& p : probes)
    if (p.name == name) return &p;
  return nullptr;
}

// `probe:` must name a declared probe of one of the allowed kinds.
void check_named(const observe::SpecLocation& where, const std::string& what,
                 const std::string& probe, const std::vector<ProbeSpec>& probes,
                 std::initializer_list<ProbeKind> kinds) {
  const ProbeSpec* p = find_probe(probes, probe);
  if (!p)
    where.fail(what + ": probe \"" + probe + "\" is not defined (probes: " + probe_names(probes) +
               ")");
  std::string wanted;
  for (auto k : kinds) {
    if (p->kind() == k) return;
    wanted += (wanted.empty() ? "" : " or ") + std::string(observe::to_string(k));
  }
  where.fail(what + ": probe \"" + probe + "\" is a " + observe::to_string(p->kind()) +
             " probe; expected " + wanted);
}

std::string unique_name(const std::vector<ProbeSpec>& probes, const std::string& base) {
  std::string name = base;
  for (int i = 2; find_probe(probes, name); ++i) name = base + "-" + std::to_string(i);
  return name;
}

// The endpoints probe for a ready_endpoints SLO or abort, added when missing.
std::string endpoints_probe(const observe::SpecLocation& where, const std::string& what,
                            const std::string& probe, const std::string& service,
                            std::vector<ProbeSpec>& probes, const Target& target) {
  if (!probe.empty()) {
    check_named(where, what, probe, probes, {ProbeKind::Endpoints});
    return probe;
  }
  std::vector<const ProbeSpec*> candidates;
  for (const auto& p : probes) {
    if (p.kind() != ProbeKind::Endpoints) continue;
    auto svc = std::get<observe::EndpointsProbeSpec>(p.spec).service;
    if (svc.empty()) svc = target.service;
    if (service.empty() || svc == service) candidates.push_back(&p);
  }
  if (candidates.size() == 1) return candidates[0]->name;
  if (candidates.size() > 1)
    where.fail(what + ": several endpoints probes match; name one with probe:");
  std::string svc = service.empty() ? target.service : service;
  if (svc.empty()) where.fail(what + ": no service to watch (set service: or target.service)");
  ProbeSpec p;
  p.name = unique_name(probes, "endpoints:" + svc);
  p.spec = observe::EndpointsProbeSpec{svc};
  p.where = where;
  probes.push_back(p);
  return p.name;
}

std::string pods_probe(const observe::SpecLocation& where, const std::string& what,
                       const std::string& probe, std::vector<ProbeSpec>& probes) {
  if (!probe.empty()) {
    check_named(where, what, probe, probes, {ProbeKind::Pods});
    return probe;
  }
  std::vector<const ProbeSpec*> candidates;
  for (const auto& p : probes)
    if (p.kind() == ProbeKind::Pods) candidates.push_back(&p);
  if (candidates.size() == 1) return candidates[0]->name;
  if (candidates.size() > 1) where.fail(what + ": several pods probes; name one with probe:");
  ProbeSpec p;
  p.name = unique_name(probes, "pods");
  p.spec = observe::PodsProbeSpec{};
  p.where = where;
  probes.push_back(p);
  return p.name;
}

}  // namespace

const char* to_string(SloKind kind) {
  switch (kind) {
    case SloKind::Availability:
      return "availability";
    case SloKind::Latency:
      return "latency";
    case SloKind::ReadyEndpoints:
      return "ready_endpoints";
    case SloKind::Replacement:
      return "replacement";
    case SloKind::Pdb:
      return "pdb";
    case SloKind::Prometheus:
      return "prometheus";
    case SloKind::Rto:
      return "rto";
    case SloKind::Rpo:
      return "rpo";
    case SloKind::RestoreComplete:
      return "restore_complete";
  }
  return "?";
}

std::string SloSpec::name() const {
  std::string base = to_string(kind);
  switch (kind) {
    case SloKind::Availability:
    case SloKind::Latency:
    case SloKind::Prometheus:
      return base + "(" + probe + ")";
    case SloKind::ReadyEndpoints:
      return base + "(" + (!service.empty() ? service : probe) + ")";
    case SloKind::Pdb:
      return pdb.empty() ? base : base + "(" + pdb + ")";
    case SloKind::Replacement:
    case SloKind::Rto:
    case SloKind::Rpo:
    case SloKind::RestoreComplete:
      return base;
  }
  return base;
}

bool SloSpec::steady_state() const {
  return kind != SloKind::Replacement && kind != SloKind::Pdb && !dr();
}

std::string AbortSpec::condition() const {
  switch (kind) {
    case AbortKind::Availability:
      return "availability(" + probe + ") below " + percent_text(below_ratio) + " over " +
             format_duration(Seconds(window));
    case AbortKind::ReadyEndpoints:
      return "ready_endpoints(" + (!service.empty() ? service : probe) + ") below " +
             std::to_string(below_count);
    case AbortKind::Prometheus: {
      std::string c = "prometheus(" + probe + ")";
      if (above) c += " above " + number_text(*above);
      if (above && below) c += " or";
      if (below) c += " below " + number_text(*below);
      return c;
    }
  }
  return "?";
}

SloSpec parse_slo(const YamlReader& node) {
  SloSpec s;
  s.where = observe::SpecLocation::of(node);
  auto key = single_key(node,
                        {"availability", "latency", "ready_endpoints", "replacement", "pdb",
                         "prometheus", "rto", "rpo", "restore_complete"},
                        "slo");
  const YamlReader n = node[key];
  const std::string what = key + " SLO";
  if (key == "availability") {
    s.kind = SloKind::Availability;
    n.expect_map({"probe", "min", "max_outage"}, what);
    s.probe = n["probe"].as_string(what);
    s.min_ratio = required(n, "min", what).as_ratio(what + " min");
    if (n.has("max_outage")) s.max_outage = seconds(n["max_outage"], what + " max_outage", false);
  } else if (key == "latency") {
    s.kind = SloKind::Latency;
    n.expect_map({"probe", "p50", "p95", "p99"}, what);
    s.probe = n["probe"].as_string(what);
    for (int p : {50, 95, 99}) {
      auto field = "p" + std::to_string(p);
      if (n.has(field)) s.percentiles.emplace_back(p, seconds(n[field], what + " " + field, true));
    }
    if (s.percentiles.empty()) n.fail(what + ": expected at least one of p50, p95, p99");
  } else if (key == "ready_endpoints") {
    s.kind = SloKind::ReadyEndpoints;
    n.expect_map({"service", "probe", "min", "per_zone_min"}, what);
    if (auto v = n.opt_string("service")) s.service = *v;
    if (auto v = n.opt_string("probe")) s.probe = *v;
    s.min_ready = non_negative_int(required(n, "min", what), what + " min");
    if (n.has("per_zone_min"))
      s.per_zone_min = non_negative_int(n["per_zone_min"], what + " per_zone_min");
  } else if (key == "replacement") {
    s.kind = SloKind::Replacement;
    n.expect_map({"within", "max_skew", "probe"}, what);
    s.within = seconds(required(n, "within", what), what + " within", true);
    if (n.has("max_skew")) s.max_skew = non_negative_int(n["max_skew"], what + " max_skew");
    if (auto v = n.opt_string("probe")) s.probe = *v;
  } else if (key == "pdb") {
    s.kind = SloKind::Pdb;
    if (n.defined()) {
      n.expect_map({"name", "probe"}, what);
      if (auto v = n.opt_string("name")) s.pdb = *v;
      if (auto v = n.opt_string("probe")) s.probe = *v;
    }
  } else if (key == "rto" || key == "rpo") {
    s.kind = key == "rto" ? SloKind::Rto : SloKind::Rpo;
    n.expect_map({"max"}, what);
    s.within = seconds(required(n, "max", what), what + " max", true);
  } else if (key == "restore_complete") {
    s.kind = SloKind::RestoreComplete;
    if (n.defined()) {
      n.expect_map({"accept_warnings"}, what);
      if (n.has("accept_warnings"))
        s.accept_warnings = non_negative_int(n["accept_warnings"], what + " accept_warnings");
    }
  } else {
    s.kind = SloKind::Prometheus;
    n.expect_map({"probe", "max", "min", "at"}, what);
    s.probe = n["probe"].as_string(what);
    if (n.has("max")) s.max = n["max"].as_number(what + " max");
    if (n.has("min")) s.min = n["min"].as_number(what + " min");
    if (!s.max && !s.min) n.fail(what + ": expected max or min (or both)");
    if (n.has("at")) {
      auto at = n["at"].as_string(what);
      if (at != "every" && at != "end")
        n["at"].fail(what + ": at must be every or end, got \"" + at + "\"");
      s.at_end = at == "end";
    }
  }
  return s;
}

std::vector<SloSpec> parse_slos(const YamlReader& list) {
  std::vector<SloSpec> out;
  if (!list.defined()) return out;
  list.expect_sequence("slos");
  for (size_t i = 0; i < list.size(); ++i) out.push_back(parse_slo(list.at(i)));
  return out;
}

AbortSpec parse_abort(const YamlReader& node) {
  AbortSpec a;
  a.where = observe::SpecLocation::of(node);
  auto key = single_key(node, {"availability", "ready_endpoints", "prometheus"}, "abort condition");
  const YamlReader n = node[key];
  const std::string what = key + " abort condition";
  if (key == "availability") {
    a.kind = AbortKind::Availability;
    n.expect_map({"probe", "below", "window"}, what);
    a.probe = n["probe"].as_string(what);
    a.below_ratio = required(n, "below", what).as_ratio(what + " below");
    a.window = seconds(required(n, "window", what), what + " window", true);
  } else if (key == "ready_endpoints") {
    a.kind = AbortKind::ReadyEndpoints;
    n.expect_map({"below", "service", "probe"}, what);
    a.below_count = non_negative_int(required(n, "below", what), what + " below");
    if (a.below_count < 1) n["below"].fail(what + ": below must be at least 1");
    if (auto v = n.opt_string("service")) a.service = *v;
    if (auto v = n.opt_string("probe")) a.probe = *v;
  } else {
    a.kind = AbortKind::Prometheus;
    n.expect_map({"probe", "above", "below"}, what);
    a.probe = n["probe"].as_string(what);
    if (n.has("above")) a.above = n["above"].as_number(what + " above");
    if (n.has("below")) a.below = n["below"].as_number(what + " below");
    if (!a.above && !a.below) n.fail(what + ": expected above or below");
  }
  return a;
}

std::vector<AbortSpec> parse_aborts(const YamlReader& list) {
  std::vector<AbortSpec> out;
  if (!list.defined()) return out;
  list.expect_sequence("abort");
  for (size_t i = 0; i < list.size(); ++i) out.push_back(parse_abort(list.at(i)));
  return out;
}

void link_probes(std::vector<SloSpec>& slos, std::vector<AbortSpec>& aborts,
                 std::vector<ProbeSpec>& probes, const Target& target) {
  for (auto& s : slos) {
    const std::string what = std::string(to_string(s.kind)) + " SLO";
    switch (s.kind) {
      case SloKind::Availability:
      case SloKind::Latency:
        check_named(s.where, what, s.probe, probes, {ProbeKind::Http, ProbeKind::Tcp});
        break;
      case SloKind::Prometheus:
        check_named(s.where, what, s.probe, probes, {ProbeKind::Prometheus});
        break;
      case SloKind::ReadyEndpoints:
        s.probe = endpoints_probe(s.where, what, s.probe, s.service, probes, target);
        break;
      case SloKind::Replacement:
      case SloKind::Pdb:
        s.probe = pods_probe(s.where, what, s.probe, probes);
        break;
      case SloKind::Rto:
      case SloKind::Rpo:
      case SloKind::RestoreComplete:
        break;  // the drill's record, no probe
    }
  }
  for (auto& a : aborts) {
    const std::string what = std::string(a.kind == AbortKind::Availability     ? "availability"
                                         : a.kind == AbortKind::ReadyEndpoints ? "ready_endpoints"
                                                                               : "prometheus") +
                             " abort condition";
    switch (a.kind) {
      case AbortKind::Availability:
        check_named(a.where, what, a.probe, probes, {ProbeKind::Http, ProbeKind::Tcp});
        // A faulted zone's vantage goes dark by design: a stop condition on
        // it would abort every zone-outage drill. SLOs judge vantages instead.
        for (const auto& p : probes)
          if (auto* h = std::get_if<observe::HttpProbeSpec>(&p.spec);
              p.name == a.probe && h && h->from)
            a.where.fail(
                what + ": probe \"" + a.probe +
                "\" runs from vantage pods (from:); stop conditions on it are not supported");
        break;
      case AbortKind::Prometheus:
        check_named(a.where, what, a.probe, probes, {ProbeKind::Prometheus});
        break;
      case AbortKind::ReadyEndpoints:
        a.probe = endpoints_probe(a.where, what, a.probe, a.service, probes, target);
        break;
    }
  }
}

}  // namespace faultline::slo
