// The run record <-> JSON. Writing is total (every field, always); reading is
// strict, like the YAML specs: a missing field, a wrong type, an unknown
// field or an unknown enum value is an InputError naming the JSON path, so
// `faultline report` on a hand-edited or truncated file says what is wrong.
#include "reports/run_record.h"

#include "reports/fault_status.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <string_view>

#include "reports/run_record_io.h"
#include "reports/text.h"
#include "runner/common/error.h"

namespace faultline::reports {
namespace {

constexpr int kSchemaVersion = 1;

// JSON has no NaN: a missing sample (a gap in a series) is written as null.
json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
json optional_number(const std::optional<double>& v) {
  return v ? number_or_null(*v) : json(nullptr);
}

json span_json(const std::optional<Span>& span) {
  if (!span) return nullptr;
  return {{"from", span->from}, {"to", span->to}};
}

// A JSON object being read, with its path for error messages.
class Reader {
 public:
  Reader(const json& j, std::string where, std::string path)
      : j_(j), where_(std::move(where)), path_(std::move(path)) {
    if (!j_.is_object()) fail(path_, std::string("expected an object, got ") + j_.type_name());
  }

  [[noreturn]] void fail(const std::string& path, const std::string& message) const {
    throw InputError(where_ + ": " + path + ": " + message);
  }

  std::string path(std::string_view key) const { return path_ + "." + std::string(key); }

  const json& field(std::string_view key) const {
    auto it = j_.find(key);
    if (it == j_.end()) fail(path(key), "missing field");
    return *it;
  }

  std::string string(std::string_view key) const {
    const json& v = field(key);
    if (!v.is_string()) fail(path(key), std::string("expected a string, got ") + v.type_name());
    return v.get<std::string>();
  }

  std::string one_of(std::string_view key, std::initializer_list<std::string_view> allowed) const {
    std::string v = string(key);
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : "|") + std::string(a);
      fail(path(key), "expected one of " + list + ", got \"" + text::valid_utf8(v) + "\"");
    }
    return v;
  }

  std::string timestamp(std::string_view key) const {
    std::string v = string(key);
    if (!text::parse_rfc3339(v)) {
      fail(path(key), "expected an RFC 3339 time like 2024-05-14T02:00:00Z, got \"" +
                          text::valid_utf8(v) + "\"");
    }
    return v;
  }

  double number(std::string_view key) const { return number_value(field(key), path(key)); }

  double number_value(const json& v, const std::string& at) const {
    if (!v.is_number()) fail(at, std::string("expected a number, got ") + v.type_name());
    return v.get<double>();
  }

  std::optional<double> optional_number(std::string_view key) const {
    const json& v = field(key);
    if (v.is_null()) return std::nullopt;
    return number(key);
  }

  int integer(std::string_view key) const {
    const json& v = field(key);
    if (!v.is_number_integer()) {
      fail(path(key), std::string("expected an integer, got ") + v.type_name());
    }
    auto value = v.get<long long>();
    if (value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max()) {
      fail(path(key), "integer out of range");
    }
    return static_cast<int>(value);
  }

  bool boolean(std::string_view key) const {
    const json& v = field(key);
    if (!v.is_boolean()) fail(path(key), std::string("expected a boolean, got ") + v.type_name());
    return v.get<bool>();
  }

  json object(std::string_view key) const {
    const json& v = field(key);
    if (!v.is_object()) fail(path(key), std::string("expected an object, got ") + v.type_name());
    return v;
  }

  Reader child(std::string_view key) const { return Reader(field(key), where_, path(key)); }

  // Calls each(element, element_path) for every element of the array at key.
  template <typename Each>
  void array(std::string_view key, Each each) const {
    const json& v = field(key);
    if (!v.is_array()) fail(path(key), std::string("expected an array, got ") + v.type_name());
    for (size_t i = 0; i < v.size(); ++i) each(v[i], path(key) + "[" + std::to_string(i) + "]");
  }

  std::vector<std::string> strings(std::string_view key) const {
    std::vector<std::string> out;
    array(key, [&](const json& v, const std::string& at) {
      if (!v.is_string()) fail(at, std::string("expected a string, got ") + v.type_name());
      out.push_back(v.get<std::string>());
    });
    return out;
  }

  void only(std::initializer_list<std::string_view> known) const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
        fail(path(it.key()), "unknown field");
      }
    }
  }

  const std::string& where() const { return where_; }

 private:
  const json& j_;
  std::string where_;
  std::string path_;
};

std::optional<Span> read_span(const Reader& r, std::string_view key) {
  if (r.field(key).is_null()) return std::nullopt;
  Reader s = r.child(key);
  s.only({"from", "to"});
  return Span{s.number("from"), s.number("to")};
}

PhaseRecord read_phase(const Reader& r) {
  r.only({"name", "started", "ended", "status", "message"});
  PhaseRecord p;
  p.name = r.string("name");
  p.started = r.number("started");
  p.ended = r.number("ended");
  p.status = r.one_of("status", {"ok", "failed", "skipped", "aborted"});
  p.message = r.string("message");
  return p;
}

FaultRecord read_fault(const Reader& r) {
  r.only({"id", "action", "target", "detail", "applied", "rolled_back", "status", "error"});
  FaultRecord f;
  f.id = r.integer("id");
  f.action = r.string("action");
  f.target = r.string("target");
  f.detail = r.object("detail");
  f.applied = r.number("applied");
  f.rolled_back = r.optional_number("rolled_back");
  f.status = r.string("status");
  if (!parse_fault_status(f.status)) {
    std::string list;
    for (const auto& n : fault_status_names()) list += (list.empty() ? "" : "|") + n;
    r.fail(r.path("status"),
           "expected one of " + list + ", got \"" + text::valid_utf8(f.status) + "\"");
  }
  f.error = r.string("error");
  return f;
}

SloRecord read_slo(const Reader& r) {
  r.only({"name", "kind", "description", "measured", "measured_text", "bound_text", "passed",
          "deciding_span", "detail"});
  SloRecord s;
  s.name = r.string("name");
  s.kind = r.string("kind");
  s.description = r.string("description");
  s.measured = r.optional_number("measured");
  s.measured_text = r.string("measured_text");
  s.bound_text = r.string("bound_text");
  s.passed = r.boolean("passed");
  s.deciding_span = read_span(r, "deciding_span");
  s.detail = r.string("detail");
  return s;
}

Series read_series(const Reader& r) {
  r.only({"name", "unit", "points"});
  Series s;
  s.name = r.string("name");
  s.unit = r.string("unit");
  r.array("points", [&](const json& p, const std::string& at) {
    if (!p.is_array() || p.size() != 2) r.fail(at, "expected a [t, value] pair");
    double t = r.number_value(p[0], at + "[0]");
    double v = p[1].is_null() ? std::numeric_limits<double>::quiet_NaN()
                              : r.number_value(p[1], at + "[1]");
    s.points.emplace_back(t, v);
  });
  return s;
}

Marker read_marker(const Reader& r) {
  r.only({"t", "kind", "label"});
  return Marker{r.number("t"), r.one_of("kind", {"phase", "fault", "rollback", "abort"}),
                r.string("label")};
}

EventRecord read_event(const Reader& r) {
  r.only({"t", "type", "reason", "object", "message"});
  return EventRecord{r.number("t"), r.string("type"), r.string("reason"), r.string("object"),
                     r.string("message")};
}

template <typename T, typename Read>
std::vector<T> read_list(const Reader& r, std::string_view key, Read read) {
  std::vector<T> out;
  r.array(key, [&](const json& v, const std::string& at) {
    out.push_back(read(Reader(v, r.where(), at)));
  });
  return out;
}

}  // namespace

json bulk_to_json(const RunRecord& r, BulkPart part) {
  json j = json::array();
  switch (part) {
    case BulkPart::Faults:
      for (const auto& f : r.faults) {
        j.push_back({{"id", f.id},
                     {"action", f.action},
                     {"target", f.target},
                     {"detail", f.detail.is_object() ? f.detail : json::object()},
                     {"applied", f.applied},
                     {"rolled_back", optional_number(f.rolled_back)},
                     {"status", f.status},
                     {"error", f.error}});
      }
      break;
    case BulkPart::Series:
      for (const auto& s : r.series) {
        json points = json::array();
        for (const auto& [t, v] : s.points) points.push_back({t, number_or_null(v)});
        j.push_back({{"name", s.name}, {"unit", s.unit}, {"points", std::move(points)}});
      }
      break;
    case BulkPart::Events:
      for (const auto& e : r.events) {
        j.push_back({{"t", e.t},
                     {"type", e.type},
                     {"reason", e.reason},
                     {"object", e.object},
                     {"message", e.message}});
      }
      break;
    case BulkPart::Log:
      j = r.log;
      break;
  }
  return j;
}

json to_json(const RunRecord& r) {
  json j = head_to_json(r);
  for (BulkPart part : kBulkParts) j[bulk_key(part)] = bulk_to_json(r, part);
  if (r.prediction)
    j["prediction"] = r.prediction->unpack();  // optional: absent in records without one
  return j;
}

json head_to_json(const RunRecord& r) {
  json j = json::object();
  j["schema_version"] = r.schema_version;
  j["faultline_version"] = r.faultline_version;
  j["run_id"] = r.run_id;
  j["experiment"] = r.experiment;
  j["experiment_file"] = r.experiment_file;
  j["script"] = r.script;
  j["params"] = r.params;
  j["target"] = r.target;
  j["cluster_context"] = r.cluster_context;
  j["cluster_server"] = r.cluster_server;
  j["kubernetes_version"] = r.kubernetes_version;
  j["started_at"] = r.started_at;
  j["ended_at"] = r.ended_at;
  j["duration_seconds"] = r.duration_seconds;
  j["result"] = r.result;
  j["exit_code"] = r.exit_code;
  j["error"] = r.error;
  if (r.abort) {
    j["abort"] = {{"condition", r.abort->condition},
                  {"t", r.abort->t},
                  {"value", r.abort->value},
                  {"message", r.abort->message}};
  } else {
    j["abort"] = nullptr;
  }
  j["phases"] = json::array();
  for (const auto& p : r.phases) {
    j["phases"].push_back({{"name", p.name},
                           {"started", p.started},
                           {"ended", p.ended},
                           {"status", p.status},
                           {"message", p.message}});
  }
  j["rollback"] = {{"complete", r.rollback.complete}, {"remaining", r.rollback.remaining}};
  j["slos"] = json::array();
  for (const auto& s : r.slos) {
    j["slos"].push_back({{"name", s.name},
                         {"kind", s.kind},
                         {"description", s.description},
                         {"measured", optional_number(s.measured)},
                         {"measured_text", s.measured_text},
                         {"bound_text", s.bound_text},
                         {"passed", s.passed},
                         {"deciding_span", span_json(s.deciding_span)},
                         {"detail", s.detail}});
  }
  j["markers"] = json::array();
  for (const auto& m : r.markers) {
    j["markers"].push_back({{"t", m.t}, {"kind", m.kind}, {"label", m.label}});
  }
  j["availability_ratio"] = optional_number(r.availability_ratio);
  j["replacement_seconds"] = optional_number(r.replacement_seconds);
  if (r.dr) j["dr"] = *r.dr;
  return j;
}

RunRecord from_json(const json& j) { return from_json(j, "run record"); }

RunRecord from_json(const json& j, const std::string& where) {
  Reader r(j, where, "$");
  // Check the version first: a newer record fails on what it is, not on the
  // first field this version does not know.
  int version = r.integer("schema_version");
  if (version != kSchemaVersion) {
    r.fail("$.schema_version", "schema version " + std::to_string(version) +
                                   " is not supported (this faultline reads version " +
                                   std::to_string(kSchemaVersion) + ")");
  }
  r.only({"schema_version",
          "faultline_version",
          "run_id",
          "experiment",
          "experiment_file",
          "script",
          "params",
          "target",
          "cluster_context",
          "cluster_server",
          "kubernetes_version",
          "started_at",
          "ended_at",
          "duration_seconds",
          "result",
          "exit_code",
          "error",
          "abort",
          "phases",
          "faults",
          "rollback",
          "slos",
          "series",
          "markers",
          "events",
          "log",
          "availability_ratio",
          "replacement_seconds",
          "prediction",
          "dr"});

  RunRecord rec;
  rec.schema_version = version;
  rec.faultline_version = r.string("faultline_version");
  rec.run_id = r.string("run_id");
  rec.experiment = r.string("experiment");
  if (rec.experiment.empty()) r.fail("$.experiment", "must not be empty");
  rec.experiment_file = r.string("experiment_file");
  rec.script = r.string("script");
  rec.params = r.object("params");
  rec.target = r.object("target");
  rec.cluster_context = r.string("cluster_context");
  rec.cluster_server = r.string("cluster_server");
  rec.kubernetes_version = r.string("kubernetes_version");
  rec.started_at = r.timestamp("started_at");
  rec.ended_at = r.timestamp("ended_at");
  rec.duration_seconds = r.number("duration_seconds");
  if (rec.duration_seconds < 0) r.fail("$.duration_seconds", "must not be negative");
  rec.result = r.one_of("result", {"passed", "failed", "aborted", "error", "rollback_incomplete"});
  rec.exit_code = r.integer("exit_code");
  if (rec.exit_code < 0 || rec.exit_code > 255) r.fail("$.exit_code", "expected 0 to 255");
  rec.error = r.string("error");
  if (!r.field("abort").is_null()) {
    Reader a = r.child("abort");
    a.only({"condition", "t", "value", "message"});
    rec.abort =
        AbortRecord{a.string("condition"), a.number("t"), a.string("value"), a.string("message")};
  }
  rec.phases = read_list<PhaseRecord>(r, "phases", read_phase);
  rec.faults = read_list<FaultRecord>(r, "faults", read_fault);
  Reader rb = r.child("rollback");
  rb.only({"complete", "remaining"});
  rec.rollback.complete = rb.boolean("complete");
  rec.rollback.remaining = rb.strings("remaining");
  rec.slos = read_list<SloRecord>(r, "slos", read_slo);
  rec.series = read_list<Series>(r, "series", read_series);
  rec.markers = read_list<Marker>(r, "markers", read_marker);
  rec.events = read_list<EventRecord>(r, "events", read_event);
  rec.log = r.strings("log");
  rec.availability_ratio = r.optional_number("availability_ratio");
  if (rec.availability_ratio && (*rec.availability_ratio < 0 || *rec.availability_ratio > 1)) {
    r.fail("$.availability_ratio", "expected a ratio from 0 to 1");
  }
  rec.replacement_seconds = r.optional_number("replacement_seconds");
  if (rec.replacement_seconds && *rec.replacement_seconds < 0) {
    r.fail("$.replacement_seconds", "must not be negative");
  }
  if (auto it = j.find("dr"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) r.fail("$.dr", std::string("expected an object, got ") + it->type_name());
    rec.dr = *it;
  }
  if (auto it = j.find("prediction"); it != j.end() && !it->is_null()) {
    if (!it->is_object())
      r.fail("$.prediction", std::string("expected an object, got ") + it->type_name());
    rec.prediction = *it;
  }
  return rec;
}

}  // namespace faultline::reports
