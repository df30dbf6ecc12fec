// The `slos:` and `abort:` entries of an experiment spec (DESIGN.md),
// parsed strictly, and their links to the probes they read.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runner/common/yaml_reader.h"
#include "runner/observe/probe_spec.h"

namespace faultline::slo {

enum class SloKind {
  Availability,
  Latency,
  ReadyEndpoints,
  Replacement,
  Pdb,
  Prometheus,
  // A restore drill's (runner/dr), judged on its record, not on probes.
  Rto,
  Rpo,
  RestoreComplete,
};
const char* to_string(SloKind kind);

// One flat record per SLO; only the fields of its kind are meaningful.
struct SloSpec {
  SloKind kind = SloKind::Availability;
  observe::SpecLocation where;
  std::string probe;  // availability, latency, prometheus; ready_endpoints once linked

  // availability: { probe, min: "99.5%", max_outage?: 5s }
  double min_ratio = 0;
  std::optional<double> max_outage;  // seconds

  // latency: { probe, p50?, p95?, p99? } (at least one)
  std::vector<std::pair<int, double>> percentiles;  // (50, 0.2 s)

  // ready_endpoints: { service?, probe?, min: 2, per_zone_min? }
  std::string service;
  int min_ready = 0;
  std::optional<int> per_zone_min;

  // replacement: { within: 120s, max_skew?: 1, probe? }
  double within = 0;  // seconds
  std::optional<int> max_skew;

  // pdb: { name?, probe? }
  std::string pdb;

  // prometheus: { probe, max?, min?, at?: every|end }
  std::optional<double> max, min;
  bool at_end = false;
  // rto: { max: 5m } and rpo: { max: 1h } use `within` as the bound (s);
  // restore_complete: { accept_warnings?: 0 } every restore Completed with
  // no errors and at most that many warnings (Velero's kube-root-ca.crt
  // "already exists" is not counted, runner/dr/results.h).
  int accept_warnings = 0;
  bool dr() const {
    return kind == SloKind::Rto || kind == SloKind::Rpo || kind == SloKind::RestoreComplete;
  }

  // "availability(http)", "ready_endpoints(checkout)", "replacement".
  std::string name() const;
  // Probe-based SLOs are what the steady state must satisfy before a fault;
  // replacement and pdb only mean something once a fault happened.
  bool steady_state() const;
};

enum class AbortKind { Availability, ReadyEndpoints, Prometheus };

struct AbortSpec {
  AbortKind kind = AbortKind::Availability;
  observe::SpecLocation where;
  std::string probe;
  // availability: { probe, below: "90%", window: 10s }
  double below_ratio = 0;
  double window = 0;  // seconds
  // ready_endpoints: { below: 1, service?, probe? }
  std::string service;
  int below_count = 0;
  // prometheus: { probe, above?, below? }
  std::optional<double> above, below;

  // "availability(http) below 90% over 10s"
  std::string condition() const;
};

SloSpec parse_slo(const YamlReader& node);
std::vector<SloSpec> parse_slos(const YamlReader& list);
AbortSpec parse_abort(const YamlReader& node);
std::vector<AbortSpec> parse_aborts(const YamlReader& list);

struct Target {
  std::string namespace_, selector, service;
};

// Checks every probe reference and fills the links: an SLO naming an unknown
// probe, or one of the wrong kind, is an InputError at the SLO's line.
// Probes the SLOs need but the spec does not declare are added: a pods probe
// "pods" for replacement/pdb, an endpoints probe "endpoints:<service>" for
// ready_endpoints. ready_endpoints/replacement/pdb get `probe` filled.
void link_probes(std::vector<SloSpec>& slos, std::vector<AbortSpec>& aborts,
                 std::vector<observe::ProbeSpec>& probes, const Target& target);

}  // namespace faultline::slo
