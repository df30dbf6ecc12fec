// The timeline: every sample every probe took, with its time in seconds since
// the start of the run (t = 0, a steady_clock instant the runner owns). SLOs
// are judged on snapshots of it, so it keeps everything and never thins.
#pragma once

#include <chrono>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runner/observe/zone_counts.h"

namespace faultline::observe {

using Clock = std::chrono::steady_clock;

inline double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// One http request or tcp connect.
struct RequestSample {
  double t = 0;           // scheduled time on the probe's timetable
  double sent = 0;        // when it was handed to libcurl (sent - t = scheduling lag)
  double latency_ms = 0;  // completion minus *scheduled* time: no coordinated omission
  int status = 0;         // HTTP status, 0 when there was none (tcp, transport error)
  bool ok = false;
  std::string error;  // "" when ok: "timeout after 1s", "status 500", ...
};

// Ready endpoints of one Service (all its EndpointSlices) after a change.
struct EndpointsSample {
  double t = 0;
  int ready_total = 0;
  int not_ready_total = 0;
  ZoneCounts ready_by_zone;  // every zone seen so far, 0 when emptied
};

// The target's pods after a change. Terminating pods count nowhere but in
// pods_by_zone (they still occupy their zone until gone).
struct PodsSample {
  double t = 0;
  int desired = 0;  // spec.replicas of the owning workload (see pods_tracker.h)
  int ready = 0;
  int pending = 0;           // not yet bound to a node
  ZoneCounts ready_by_zone;  // every known zone, 0 when none
  ZoneCounts pods_by_zone;   // pods present (any state) per zone
  // Pods still on the zones declared faulted when the sample was taken (for
  // the live view; SLOs recompute it from pods_by_zone and their window).
  int on_faulted_zones = 0;
  // The zones the workload's spread counts (spread_domains.h); empty when
  // not known yet (then every zone counts).
  ZoneSet eligible_zones;
};

// A Prometheus query result (or the reason there was none).
struct ValueSample {
  double t = 0;
  bool ok = false;
  double value = 0;
  std::string error;
};

// A pod of the target became Ready (watch-event arrival time: the Ready
// condition's lastTransitionTime has only second precision).
struct ReadyEvent {
  double t = 0;
  std::string pod;
  std::string node;
  std::string zone;
};

// A PodDisruptionBudget's status after a change.
struct PdbSample {
  double t = 0;
  std::string name;
  std::string ns;           // its namespace: only evictions there are evidence for or against it
  int desired_healthy = 0;  // the budget's rule resolved to a count by the disruption controller
  std::string rule;         // the PDB's own rule: "minAvailable 4", "maxUnavailable 25%"
  int current_healthy = 0;
  int expected_pods = 0;
  int disruptions_allowed = 0;
};

// An eviction the API server admitted (201 from the eviction subresource):
// the pdb SLO names those that took the budget below its floor.
struct EvictionEvent {
  double t = 0;
  std::string pod;    // ns/name
  std::string node;   // where it ran
  std::string label;  // the voluntary disruption it belonged to ("drain zone-a"), "" if none
};

// A span during which the run disrupted pods on purpose: voluntary ones
// (drain, evict: must honour PDBs) or deliberate PDB violations.
struct Disruption {
  int id = 0;
  std::string label;  // "drain zone-a"
  bool voluntary = true;
  double from = 0;
  std::optional<double> to;  // open while it lasts
};

// A probe that could not run (watch forbidden, bad URL at run time, ...).
struct ProbeFailure {
  double t = 0;
  std::string probe;
  std::string message;
};

enum class SeriesKind { Requests, Endpoints, Pods, Values };

struct TimelineSnapshot {
  double taken = 0;  // t when the snapshot was made
  // Per probe name; every declared probe has an entry, empty until it samples.
  std::map<std::string, std::vector<RequestSample>> requests;
  std::map<std::string, std::vector<EndpointsSample>> endpoints;
  std::map<std::string, std::vector<PodsSample>> pods;
  std::map<std::string, std::vector<ValueSample>> values;
  std::vector<ReadyEvent> ready_events;
  std::vector<PdbSample> pdbs;
  std::vector<EvictionEvent> evictions;
  std::vector<Disruption> disruptions;
  std::vector<ProbeFailure> failures;
  std::vector<std::string> faulted_zones;
  std::optional<double> fault_start;
  std::optional<double> fault_end;
};

// Thread-safe store. Series stay sorted by t (samples may complete out of
// order; insertion is from the back, so it is cheap).
class Timeline {
 public:
  void declare(const std::string& probe, SeriesKind kind);

  void add(const std::string& probe, RequestSample s);
  void add(const std::string& probe, EndpointsSample s);
  void add(const std::string& probe, PodsSample s);
  void add(const std::string& probe, ValueSample s);
  void add(ReadyEvent e);
  void add(PdbSample s);
  void add(ProbeFailure f);
  void add(EvictionEvent e);

  int begin_disruption(const std::string& label, bool voluntary, double t);
  void end_disruption(int id, double t);
  // The label of the latest voluntary disruption open at t, "" when none.
  std::string voluntary_disruption_at(double t) const;
  void set_faulted_zones(std::vector<std::string> zones);
  void mark_fault_start(double t);
  void mark_fault_end(double t);

  // A copy of everything with t >= since. State series (endpoints, pods)
  // also keep the last sample before since: it is the state at since.
  TimelineSnapshot snapshot(double since = -std::numeric_limits<double>::infinity(),
                            double taken = 0) const;
  // Everything, moved out: the timeline is empty afterwards. For the report,
  // once nothing samples any more: a copy beside it was one more timeline
  // (~3 MB at 10k pods, issue 14) at the run's end.
  TimelineSnapshot take(double taken = 0);

  // Success ratio and count of the request samples with t in [from, to].
  struct Ratio {
    int ok = 0;
    int total = 0;
  };
  Ratio request_ratio(const std::string& probe, double from, double to) const;
  std::optional<PodsSample> last_pods() const;
  std::optional<EndpointsSample> last_endpoints() const;
  // The pods and endpoints probes with no sample yet: their watch's first
  // list is not in.
  std::vector<std::string> unsampled_state_probes() const;
  std::vector<std::string> request_probes() const;
  std::vector<std::string> faulted_zones() const;
  std::vector<ProbeFailure> failures() const;

 private:
  mutable std::mutex mu_;
  TimelineSnapshot data_;
  int next_disruption_ = 1;
};

}  // namespace faultline::observe
