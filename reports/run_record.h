// The run record: everything one run produced, and the only input of the
// report library. It knows nothing of how the run was made. Times inside a
// run are seconds since `started_at` (t = 0 is the start of the run).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "reports/packed_json.h"

namespace faultline::reports {

using json = nlohmann::json;

struct Span {
  double from = 0;
  double to = 0;
};

struct PhaseRecord {
  std::string name;  // validate lock preflight inject observe verify rollback report
  double started = 0;
  double ended = 0;
  std::string status;  // ok | failed | skipped | aborted
  std::string message;
};

struct FaultRecord {
  int id = 0;
  std::string action;  // cordon_node, taint_node, evict_pod, delete_pod, ...
  std::string target;  // "node/zone-a-1", "pod/shop/checkout-abc"
  json detail = json::object();
  double applied = 0;
  std::optional<double> rolled_back;
  std::string status;  // one of kFaultStatuses (reports/fault_status.h)
  std::string error;
};

struct SloRecord {
  std::string name;  // "availability(http)"
  std::string kind;  // availability latency ready_endpoints replacement pdb prometheus
  std::string description;
  std::optional<double> measured;
  std::string measured_text;  // "99.2%", "41.3s"
  std::string bound_text;     // ">= 99.5%", "<= 120s"
  bool passed = false;
  std::optional<Span> deciding_span;
  std::string detail;
};

struct Series {
  std::string name;  // "availability", "latency_p95_ms", "ready{zone=zone-a}"
  std::string unit;  // "ratio", "ms", "count"
  std::vector<std::pair<double, double>> points;  // (t, value)
};

struct Marker {
  double t = 0;
  std::string kind;  // phase | fault | rollback | abort
  std::string label;
};

struct EventRecord {
  double t = 0;
  std::string type;  // Normal | Warning
  std::string reason;
  std::string object;
  std::string message;
};

struct RollbackRecord {
  bool complete = true;
  std::vector<std::string> remaining;  // human-readable, e.g. "node/zone-a-1 still cordoned"
};

struct AbortRecord {
  std::string condition;  // "availability(http) below 90% over 10s"
  double t = 0;
  std::string value;  // the breaching sample, "71.4%"
  std::string message;
};

struct RunRecord {
  int schema_version = 1;
  std::string faultline_version;
  std::string run_id;
  std::string experiment;  // metadata.name
  std::string experiment_file;
  std::string script;
  json params = json::object();
  json target = json::object();  // {namespace, selector, service}
  std::string cluster_context;
  std::string cluster_server;
  std::string kubernetes_version;
  std::string started_at;  // RFC 3339 UTC
  std::string ended_at;
  double duration_seconds = 0;
  std::string result;  // passed | failed | aborted | error | rollback_incomplete
  int exit_code = 0;
  std::string error;  // for result == error
  std::optional<AbortRecord> abort;
  std::vector<PhaseRecord> phases;
  std::vector<FaultRecord> faults;
  RollbackRecord rollback;
  std::vector<SloRecord> slos;
  std::vector<Series> series;
  std::vector<Marker> markers;
  std::vector<EventRecord> events;
  std::vector<std::string> log;  // script log lines, "t level message"
  // Headline figures for metrics (absent when not measured).
  std::optional<double> availability_ratio;
  std::optional<double> replacement_seconds;
  // What `faultline plan` predicted before the faults (runner/plan's JSON:
  // verdict, ready_endpoints, pdbs, time, slos[{name, verdict, why,
  // predicted}], ...). Optional: older records and runs without one omit it.
  // Packed: it is held from the preflight to the report and read only there.
  std::optional<PackedJson> prediction;
  // A restore drill's record (runner/dr Drill::record): {backups, restores,
  // timeline=[{t, event}], disaster_t?, rto_s?, rpo_s?}. Hashes only, never
  // a Secret's value. Optional: runs without spec.dr omit it.
  std::optional<json> dr;
};

json to_json(const RunRecord& record);

// The parts of a record that grow with the drill (a fault per evicted pod, a
// point per sample, the events, the log) and the prediction are turned into
// JSON one at a time by the JSON report, never as one document: at 10,000
// pods the whole record's DOM was ~10 MB beside its text, the peak of the run
// (issue 14). to_json is head_to_json with every part added.
enum class BulkPart { Faults, Series, Events, Log };
inline constexpr BulkPart kBulkParts[] = {BulkPart::Faults, BulkPart::Series, BulkPart::Events,
                                          BulkPart::Log};
inline const char* bulk_key(BulkPart part) {
  switch (part) {
    case BulkPart::Faults:
      return "faults";
    case BulkPart::Series:
      return "series";
    case BulkPart::Events:
      return "events";
    case BulkPart::Log:
      return "log";
  }
  return "";
}
json head_to_json(const RunRecord& record);  // without the bulk parts and the prediction
json bulk_to_json(const RunRecord& record, BulkPart part);
RunRecord from_json(const json& j);  // throws faultline::InputError on a malformed record

}  // namespace faultline::reports
